/* Benchmark 2's second floor: one libcurl GET with a bearer token, the
 * reply written to stdout, and nothing else.
 * Usage: bench-curl-get URL [TOKEN] */
#include <stdio.h>
#include <curl/curl.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char auth[600];
    struct curl_slist *h = NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    if (!c)
        return 1;
    if (argc > 2) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", argv[2]);
        h = curl_slist_append(h, auth);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    }
    curl_easy_setopt(c, CURLOPT_URL, argv[1]);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    CURLcode r = curl_easy_perform(c);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    return r == CURLE_OK ? 0 : 1;
}
