/* Benchmark 2's floors: a process that only loads libcurl (no argument),
 * or loads it and runs curl_global_init(CURL_GLOBAL_DEFAULT) as partctl
 * does (any argument): the difference is libcurl's (TLS) initialisation. */
#include <curl/curl.h>

int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return 1;
        curl_global_cleanup();
    }
    return 0;
}
