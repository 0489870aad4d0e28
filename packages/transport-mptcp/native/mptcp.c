/*
 * The only part of @pathquic/transport-mptcp that Node.js cannot do itself: create a socket with protocol
 * IPPROTO_MPTCP, bind it (for listeners), and read the SOL_MPTCP socket options. Everything else (connect, listen,
 * accept, reads, writes, timers) stays in libuv through node:net, which is handed the file descriptor.
 *
 * Every function returns a number: >= 0 on success, -errno on failure, so the JavaScript side decides what an
 * error means (fallback to TCP or a thrown error) and no exception crosses the boundary.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Values from the kernel's include/uapi/linux/in.h and include/linux/socket.h (RFC 8684 Multipath TCP); they are
 * defined here because older libc headers lack them and the numbers are fixed ABI. */
#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
/* include/uapi/linux/mptcp.h: MPTCP_FULL_INFO (Linux 6.5+) carries two user pointers, so it cannot be driven from
 * JavaScript through the generic getsockopt below. */
#define PQ_MPTCP_FULL_INFO 4
/* offsetof(struct mptcp_full_info, subflow_info) and (…, tcp_info): six __u32 counters, then two __aligned_u64. */
#define PQ_FULL_INFO_SUBFLOW_PTR 24
#define PQ_FULL_INFO_TCP_PTR 32
#define PQ_FULL_INFO_MIN 40

#define CHECK(call)                                                                                               \
  do {                                                                                                            \
    if ((call) != napi_ok) return NULL;                                                                           \
  } while (0)

static napi_value number(napi_env env, int64_t v) {
  napi_value out;
  if (napi_create_int64(env, v, &out) != napi_ok) return NULL;
  return out;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return -1;
  }
  return 0;
}

static int get_int(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a number");
    return -1;
  }
  return 0;
}

static int get_buffer(napi_env env, napi_value v, void **data, size_t *len) {
  if (napi_get_buffer_info(env, v, data, len) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a Buffer");
    return -1;
  }
  return 0;
}

/* socket(family: 4 | 6): a nonblocking, close-on-exec MPTCP stream socket, or -errno. */
static napi_value js_socket(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t family;
  if (get_args(env, info, 1, argv) || get_int(env, argv[0], &family)) return NULL;
  int domain = family == 6 ? AF_INET6 : AF_INET;
  int fd = socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_MPTCP);
  return number(env, fd < 0 ? -errno : fd);
}

/* bind(fd, family, address, port, ipv6Only): what uv_tcp_bind does for a listener (SO_REUSEADDR, IPV6_V6ONLY),
 * done here because node:net can only be handed an already bound descriptor. Returns 0 or -errno. */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t fd, family, port;
  bool v6only = false;
  char addr[64];
  size_t addr_len;
  if (get_args(env, info, 5, argv) || get_int(env, argv[0], &fd) || get_int(env, argv[1], &family) ||
      get_int(env, argv[3], &port))
    return NULL;
  if (napi_get_value_string_utf8(env, argv[2], addr, sizeof addr, &addr_len) != napi_ok ||
      napi_get_value_bool(env, argv[4], &v6only) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected (fd, family, address, port, ipv6Only)");
    return NULL;
  }
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) return number(env, -errno);
  if (family == 6) {
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof sa);
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, addr, &sa.sin6_addr) != 1) return number(env, -EINVAL);
    int only = v6only ? 1 : 0;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only) != 0) return number(env, -errno);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return number(env, -errno);
  } else {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) return number(env, -EINVAL);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return number(env, -errno);
  }
  return number(env, 0);
}

/* getsockopt(fd, level, optname, buffer): the buffer is both input (MPTCP_TCPINFO and MPTCP_SUBFLOW_ADDRS read a
 * struct mptcp_subflow_data header from it) and output. Returns the length the kernel wrote, or -errno. */
static napi_value js_getsockopt(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd, level, name;
  void *data;
  size_t len;
  if (get_args(env, info, 4, argv) || get_int(env, argv[0], &fd) || get_int(env, argv[1], &level) ||
      get_int(env, argv[2], &name) || get_buffer(env, argv[3], &data, &len))
    return NULL;
  socklen_t optlen = (socklen_t)len;
  if (getsockopt(fd, level, name, data, &optlen) != 0) return number(env, -errno);
  return number(env, optlen);
}

/* fullInfo(fd, header, subflows, tcpInfos): MPTCP_FULL_INFO with the two array pointers of struct mptcp_full_info
 * aimed at the given buffers. The caller fills the size fields; the pointers are cleared again before returning so
 * no address leaks into JavaScript. Returns the length written into header, or -errno. */
static napi_value js_full_info(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd;
  void *hdr, *sf, *ti;
  size_t hdr_len, sf_len, ti_len;
  if (get_args(env, info, 4, argv) || get_int(env, argv[0], &fd) || get_buffer(env, argv[1], &hdr, &hdr_len) ||
      get_buffer(env, argv[2], &sf, &sf_len) || get_buffer(env, argv[3], &ti, &ti_len))
    return NULL;
  if (hdr_len < PQ_FULL_INFO_MIN) return number(env, -EINVAL);
  uint64_t sf_ptr = (uint64_t)(uintptr_t)sf, ti_ptr = (uint64_t)(uintptr_t)ti;
  memcpy((char *)hdr + PQ_FULL_INFO_SUBFLOW_PTR, &sf_ptr, sizeof sf_ptr);
  memcpy((char *)hdr + PQ_FULL_INFO_TCP_PTR, &ti_ptr, sizeof ti_ptr);
  socklen_t optlen = (socklen_t)hdr_len;
  int rc = getsockopt(fd, SOL_MPTCP, PQ_MPTCP_FULL_INFO, hdr, &optlen);
  int err = errno;
  memset((char *)hdr + PQ_FULL_INFO_SUBFLOW_PTR, 0, 16);
  return number(env, rc != 0 ? -err : (int64_t)optlen);
}

/* close(fd): only for descriptors that never reached libuv (a failed open or bind). */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (get_args(env, info, 1, argv) || get_int(env, argv[0], &fd)) return NULL;
  return number(env, close(fd) != 0 ? -errno : 0);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"socket", NULL, js_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bind", NULL, js_bind, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getsockopt", NULL, js_getsockopt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fullInfo", NULL, js_full_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
