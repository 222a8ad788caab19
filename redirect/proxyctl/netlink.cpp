// SPDX-License-Identifier: Apache-2.0
#include "netlink.h"

#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace tandem::proxy {

namespace {

struct RequestState {
	const Netlink::ReplyFn *on_reply = nullptr;
	NlFailure *failure = nullptr;
	bool done = false;
	bool failed = false;
};

int on_valid(nl_msg *msg, void *arg)
{
	auto *st = static_cast<RequestState *>(arg);
	if (st->on_reply && *st->on_reply)
		(*st->on_reply)(msg);
	return NL_OK;
}

// The end of a dump (NLMSG_DONE): dumps get no ACK.
int on_finish(nl_msg *, void *arg)
{
	static_cast<RequestState *>(arg)->done = true;
	return NL_STOP;
}

int on_ack(nl_msg *, void *arg)
{
	static_cast<RequestState *>(arg)->done = true;
	return NL_STOP;
}

// The extended ACK TLVs follow the nlmsgerr (and the echoed request unless
// the kernel capped it, which NETLINK_CAP_ACK asks for).
std::string extack_message(const nlmsgerr *err)
{
	const auto *hdr = reinterpret_cast<const nlmsghdr *>(
		reinterpret_cast<const char *>(err) - NLMSG_HDRLEN);
	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS))
		return {};
	size_t off = NLMSG_HDRLEN + sizeof(*err);
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(err->msg.nlmsg_len) - NLMSG_HDRLEN;
	if (off >= hdr->nlmsg_len)
		return {};
	auto *attrs = reinterpret_cast<nlattr *>(
		const_cast<char *>(reinterpret_cast<const char *>(hdr)) + off);
	nlattr *msg = nla_find(attrs, static_cast<int>(hdr->nlmsg_len - off),
			       NLMSGERR_ATTR_MSG);
	if (!msg || nla_len(msg) <= 0)
		return {};
	const char *s = static_cast<const char *>(nla_data(msg));
	return std::string(s, strnlen(s, static_cast<size_t>(nla_len(msg))));
}

int on_error(sockaddr_nl *, nlmsgerr *err, void *arg)
{
	auto *st = static_cast<RequestState *>(arg);
	st->done = true;
	st->failed = true;
	st->failure->error = -err->error;
	st->failure->extack = extack_message(err);
	return NL_STOP;
}

}  // namespace

std::string NlFailure::describe() const
{
	std::string s = std::strerror(error);
	if (!extack.empty())
		s += " (kernel: " + extack + ")";
	return s;
}

NlMsgPtr make_msg()
{
	return NlMsgPtr(nlmsg_alloc());
}

Result<Netlink> Netlink::open(int protocol)
{
	NlSockPtr sock(nl_socket_alloc());
	if (!sock)
		return make_error("cannot allocate a netlink socket: out of memory");
	int err = nl_connect(sock.get(), protocol);
	if (err < 0)
		return make_error(std::string("cannot open a netlink socket: ") +
				  nl_geterror(err));
	int one = 1;
	int fd = nl_socket_get_fd(sock.get());
	// Best effort: kernels without extended ACK still answer with errno.
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl_socket_set_buffer_size(sock.get(), 32768, 32768);
	return Netlink(std::move(sock));
}

bool Netlink::request(nl_msg *msg, NlFailure &failure, const ReplyFn &on_reply)
{
	RequestState st;
	st.on_reply = &on_reply;
	st.failure = &failure;

	// nl_socket_get_cb() takes a reference: hand it to an owner too.
	NlCbPtr sock_cb(nl_socket_get_cb(sock_.get()));
	NlCbPtr cb(sock_cb ? nl_cb_clone(sock_cb.get()) : nullptr);
	if (!cb) {
		failure = {ENOMEM, {}};
		return false;
	}
	nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_valid, &st);
	nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_ack, &st);
	nl_cb_set(cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &st);
	nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &st);

	nl_complete_msg(sock_.get(), msg);
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	int err = nl_send(sock_.get(), msg);
	if (err < 0) {
		failure = {EIO, std::string("send failed: ") + nl_geterror(err)};
		return false;
	}
	while (!st.done) {
		err = nl_recvmsgs(sock_.get(), cb.get());
		if (err < 0 && !st.done) {
			failure = {EIO, std::string("receive failed: ") + nl_geterror(err)};
			return false;
		}
	}
	return !st.failed;
}

}  // namespace tandem::proxy
