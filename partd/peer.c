/* partd's client of its peers (peer.h). One easy handle per call: a move
 * makes a handful. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "peer.h"

#define PEER_REPLY_MAX (1u << 20)
#define PEER_TIMEOUT_S 30
#define PEER_CONNECT_S 10

struct peer_buffer {
    char *data;
    size_t len;
};

static size_t peer_write(char *ptr, size_t size, size_t n, void *opaque)
{
    struct peer_buffer *b = opaque;
    size_t add = size * n;
    if (b->len + add > PEER_REPLY_MAX)
        return 0;
    char *data = realloc(b->data, b->len + add + 1);
    if (!data)
        return 0;
    memcpy(data + b->len, ptr, add);
    b->data = data;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

int peer_call(const struct part_peer_config *peer, const char *method, const char *path,
              json_t *body, long *ret_status, json_t **ret_body, struct part_error *err)
{
    char token[PART_TOKEN_MAX], auth[PART_TOKEN_MAX + 32], *url = NULL, *text = NULL;
    struct peer_buffer reply = {0};
    struct curl_slist *headers = NULL;
    CURL *curl = NULL;
    int r;

    if (ret_body)
        *ret_body = NULL;
    /* the check of partd.json, again: a peer's token never goes out in clear */
    if ((r = part_peer_url_check(peer->url, "url", err)) < 0 ||
        (r = part_peer_token(peer, token, sizeof(token), err)) < 0)
        return r;
    part_error_clear(err); /* the token's file is no part of what follows */
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    explicit_bzero(token, sizeof(token));
    size_t ul = strlen(peer->url);
    if (asprintf(&url, "%.*s%s", (int)(ul && peer->url[ul - 1] == '/' ? ul - 1 : ul), peer->url,
                 path) < 0 ||
        (body && !(text = json_dumps(body, JSON_COMPACT))) || !(curl = curl_easy_init()) ||
        !(headers = curl_slist_append(headers, auth)) ||
        !(headers = curl_slist_append(headers, "Content-Type: application/json")) ||
        !(headers = curl_slist_append(headers, "Accept: application/json"))) {
        r = part_error_oom(err);
        goto out;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)PEER_CONNECT_S);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)PEER_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (peer->cacert)
        curl_easy_setopt(curl, CURLOPT_CAINFO, peer->cacert);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text ? text : "");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, peer_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
    CURLcode c = curl_easy_perform(curl);
    if (c != CURLE_OK) {
        r = part_error_set(err, c == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED, "",
                           "peer %s (%s): %s", peer->name, peer->url, curl_easy_strerror(c));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, ret_status);
    if (ret_body && reply.len)
        *ret_body = json_loadb(reply.data, reply.len, 0, NULL);
out:
    explicit_bzero(auth, sizeof(auth));
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(reply.data);
    free(text);
    free(url);
    return r;
}

int peer_problem(const struct part_peer_config *peer, long status, json_t *body, int e,
                 struct part_error *err)
{
    const char *detail = json_string_value(json_object_get(body, "detail"));
    const char *field = json_string_value(json_object_get(body, "field"));
    int r = part_error_set(err, e, "", "peer %s answered %ld: %s", peer->name, status,
                           detail ? detail : "(no detail)");
    if (err && field)
        snprintf(err->field, sizeof(err->field), "%s", field);
    return r;
}
