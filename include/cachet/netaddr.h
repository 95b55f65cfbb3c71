/* Listen addresses for cachet's servers (the key broker, cachet serve). */
#ifndef CACHET_NETADDR_H
#define CACHET_NETADDR_H
#include <netinet/in.h>
#include "cachet/rc.h"
#ifdef __cplusplus
extern "C" {
#endif

/* "HOST:PORT" with an IPv4 host ("localhost" is 127.0.0.1), port 0..65535
 * (0: any free port).  CACHET_E_INVALID_ARG with "listen: ..." otherwise. */
cachet_rc cachet_listen_parse(const char *s, struct sockaddr_in *sa);
/* 127.0.0.0/8. */
int cachet_addr_is_loopback(const struct sockaddr_in *sa);

#ifdef __cplusplus
}
#endif
#endif
