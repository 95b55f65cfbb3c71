/* Listen addresses (include/cachet/netaddr.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/netaddr.h"

#define NET_ERR(...) cachet_err(CACHET_RC(CACHET_SUB_UTIL, CACHET_E_INVALID_ARG), __VA_ARGS__)

cachet_rc cachet_listen_parse(const char *s, struct sockaddr_in *sa)
{
    if (!sa)
        return NET_ERR("listen: NULL argument");
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    const char *colon = s ? strrchr(s, ':') : NULL;
    if (!colon || colon == s || (size_t)(colon - s) >= 64)
        return NET_ERR("listen: expected HOST:PORT");
    char host[64];
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return NET_ERR("listen: bad port in %s", s);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return NET_ERR("listen: %s is not an IPv4 address", host);
    sa->sin_port = htons((uint16_t)port);
    return CACHET_OK;
}

int cachet_addr_is_loopback(const struct sockaddr_in *sa)
{
    return sa && (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
}
