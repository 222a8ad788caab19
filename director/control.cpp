// SPDX-License-Identifier: Apache-2.0
#include "control.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "log.h"

namespace tandem::director {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

// The name of process `pid` (/proc/PID/comm, at most 15 characters), or "".
std::string process_name(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/comm");
	std::string name;
	std::getline(f, name);
	return name;
}

// What is at `path` before we bind it.
enum class Existing { none, stale };

// A socket file nobody listens on (connect says ECONNREFUSED) was left by a process that
// died without removing it: stale, ours to replace. One somebody listens on belongs to a
// live process: refused, and the error says which (SO_PEERCRED gives the listener's pid).
Result<Existing> probe_existing(const std::string &path, const sockaddr_un &sa)
{
	struct stat st;
	if (lstat(path.c_str(), &st) != 0) {
		if (errno == ENOENT)
			return Existing::none;
		return make_error("control socket " + path + ": " + errno_text(errno), errno);
	}
	if (!S_ISSOCK(st.st_mode))
		return make_error("control socket " + path +
				  " exists and is not a socket; remove it or pass another --control-socket");
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return make_error("control socket: " + errno_text(errno), errno);
	const int rc = connect(fd, reinterpret_cast<const sockaddr *>(&sa), sizeof(sa));
	const int e = rc == 0 ? 0 : errno;
	ucred cred{};
	socklen_t len = sizeof(cred);
	const bool have_pid = rc == 0 &&
			      getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0;
	close(fd);
	if (e == ECONNREFUSED)
		return Existing::stale;
	if (e == ENOENT)  // removed since lstat
		return Existing::none;
	if (e != 0 && e != EAGAIN)
		return make_error("control socket " + path +
					  ": cannot tell whether a daemon still uses it: connect: " +
					  errno_text(e),
				  e);
	std::string who = "a running process";
	if (have_pid) {
		const std::string name = process_name(cred.pid);
		if (name == "tandem-director")
			who = "a running tandem-director";
		else if (!name.empty())
			who += " '" + name + "'";
		who += " (pid " + std::to_string(cred.pid) + ")";
	} else if (e == EAGAIN) {
		who += " (its connection queue is full)";
	}
	return make_error("control socket " + path + " is in use by " + who +
				  "; stop it first, or pass another --control-socket",
			  EADDRINUSE);
}

// One try, never blocking: for the short notes a late or extra client gets before close.
void send_note(int fd, const std::string &s)
{
	[[maybe_unused]] ssize_t n = send(fd, s.data(), s.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

bool make_control_address(const std::string &path, sockaddr_un &sa)
{
	std::memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path.size() >= sizeof(sa.sun_path))
		return false;
	std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
	return true;
}

const char *to_string(ControlResult r)
{
	switch (r) {
	case ControlResult::served: return "served";
	case ControlResult::timed_out: return "timed_out";
	case ControlResult::too_long: return "too_long";
	case ControlResult::refused: return "refused";
	case ControlResult::closed: return "closed";
	case ControlResult::count_: break;
	}
	return "unknown";
}

struct ControlServer::Connection {
	Connection(int fd_, Clock::time_point now, const ControlLimits &l)
		: fd(fd_), request(now, l.request_deadline, l.max_request)
	{
	}
	Connection(Connection &&o) noexcept
		: fd(std::exchange(o.fd, -1)), request(std::move(o.request)),
		  answer(std::move(o.answer)), sent(o.sent), answering(o.answering),
		  on_written(o.on_written), answer_deadline(o.answer_deadline)
	{
	}
	Connection &operator=(Connection &&o) noexcept
	{
		if (this != &o) {
			if (fd >= 0)
				close(fd);
			fd = std::exchange(o.fd, -1);
			request = std::move(o.request);
			answer = std::move(o.answer);
			sent = o.sent;
			answering = o.answering;
			on_written = o.on_written;
			answer_deadline = o.answer_deadline;
		}
		return *this;
	}
	~Connection()
	{
		if (fd >= 0)
			close(fd);
	}

	int fd;  // -1 once ended
	RequestReader request;
	std::string answer;  // being written once answering
	size_t sent = 0;
	bool answering = false;
	ControlResult on_written = ControlResult::served;
	Clock::time_point answer_deadline{};
};

Result<ControlServer> ControlServer::listen(const std::string &path, ControlLimits limits)
{
	sockaddr_un sa;
	if (!make_control_address(path, sa))
		return make_error("control socket path too long: " + path);
	Result<Existing> existing = probe_existing(path, sa);
	if (!existing)
		return existing.error();
	if (*existing == Existing::stale && unlink(path.c_str()) != 0 && errno != ENOENT)
		return make_error("removing the stale control socket " + path + ": " +
					  errno_text(errno),
				  errno);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return make_error("control socket: " + errno_text(errno), errno);
	mode_t old = umask(077);
	int rc = bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa));
	umask(old);
	struct stat st{};
	if (rc == 0)
		rc = ::listen(fd, 16) == 0 && stat(path.c_str(), &st) == 0 ? 0 : -1;
	if (rc != 0) {
		int e = errno;
		close(fd);
		if (e == EADDRINUSE)
			return make_error("control socket " + path +
						  " appeared while starting: is another tandem-director "
						  "starting with the same --control-socket?",
					  e);
		return make_error("control socket " + path + ": " + errno_text(e) +
					  " (does its directory exist? the unit sets RuntimeDirectory=tandem)",
				  e);
	}
	if (*existing == Existing::stale)
		log(Level::notice, nullptr,
		    "replaced the stale control socket " + path +
			    " (nothing listened on it: left by a daemon that did not stop cleanly)");
	return ControlServer(fd, path, st.st_dev, st.st_ino, limits);
}

ControlServer::ControlServer(int fd, std::string path, dev_t dev, ino_t ino, ControlLimits limits)
	: fd_(fd), path_(std::move(path)), dev_(dev), ino_(ino), limits_(limits)
{
}

ControlServer::ControlServer(ControlServer &&o) noexcept
	: fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)), dev_(o.dev_), ino_(o.ino_),
	  limits_(o.limits_), conns_(std::move(o.conns_)), counters_(o.counters_)
{
}

ControlServer::~ControlServer()
{
	if (fd_ < 0)
		return;
	close(fd_);
	// Only our own socket file: never one somebody put in its place.
	struct stat st;
	if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
		unlink(path_.c_str());
}

size_t ControlServer::clients() const
{
	return conns_.size();
}

void ControlServer::add_pollfds(std::vector<pollfd> &fds) const
{
	fds.push_back({fd_, POLLIN, 0});
	for (const Connection &c : conns_)
		fds.push_back({c.fd, static_cast<short>(c.answering ? POLLOUT : POLLIN), 0});
}

std::optional<ControlServer::Clock::time_point> ControlServer::next_deadline() const
{
	std::optional<Clock::time_point> first;
	for (const Connection &c : conns_) {
		const Clock::time_point d = c.answering ? c.answer_deadline : c.request.deadline();
		if (!first || d < *first)
			first = d;
	}
	return first;
}

void ControlServer::process(std::span<const pollfd> polled, const Handler &handler)
{
	// conns_[i] was polled as polled[i + 1]; those accepted below come after and are
	// read at once, since their request may be there already.
	const size_t was_polled = std::min(conns_.size(), polled.empty() ? 0 : polled.size() - 1);
	if (!polled.empty() && (polled[0].revents & POLLIN))
		accept_all();
	for (size_t i = 0; i < conns_.size(); i++) {
		Connection &c = conns_[i];
		if (i < was_polled && polled[i + 1].revents == 0)
			continue;
		if (c.answering)
			write_to(c);
		else
			read_from(c);
		if (c.fd >= 0 && !c.answering && c.request.state() != RequestReader::State::reading)
			answer(c, handler);
	}
	// Deadlines, after any handler has run: a request that arrived meanwhile still gets
	// one last read before its connection counts as late.
	const Clock::time_point now = Clock::now();
	for (Connection &c : conns_) {
		if (c.fd < 0)
			continue;
		if (c.answering) {
			if (now >= c.answer_deadline)
				end(c, ControlResult::timed_out);
			continue;
		}
		if (now < c.request.deadline())
			continue;
		read_from(c);
		if (c.fd < 0)
			continue;
		if (c.request.expire(now) == RequestReader::State::timed_out) {
			send_note(c.fd, "error: no complete request line within " +
						std::to_string(limits_.request_deadline.count()) + " ms\n");
			end(c, ControlResult::timed_out);
		} else {
			answer(c, handler);
		}
	}
	std::erase_if(conns_, [](const Connection &c) { return c.fd < 0; });
}

void ControlServer::accept_all()
{
	// Bounded, so a flood of connections cannot keep the control loop here.
	for (int i = 0; i < 64; i++) {
		int fd = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;  // EAGAIN: none left; ECONNABORTED, EMFILE...: try on the next wakeup
		if (conns_.size() >= limits_.max_clients) {
			send_note(fd, "error: " + std::to_string(limits_.max_clients) +
					      " control clients are connected already; try again\n");
			close(fd);
			counters_[static_cast<size_t>(ControlResult::refused)]++;
			continue;
		}
		conns_.emplace_back(fd, Clock::now(), limits_);
	}
}

void ControlServer::read_from(Connection &c)
{
	char buf[512];
	while (c.request.state() == RequestReader::State::reading) {
		ssize_t n = recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			c.request.feed(std::string_view(buf, static_cast<size_t>(n)));
		} else if (n == 0) {
			c.request.end_of_stream();
		} else if (errno == EINTR) {
			continue;
		} else {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				end(c, ControlResult::closed);
			return;
		}
	}
}

// The request has ended one way or the other (not reading): answer it, or close.
void ControlServer::answer(Connection &c, const Handler &handler)
{
	switch (c.request.state()) {
	case RequestReader::State::reading:
		return;
	case RequestReader::State::empty:
		end(c, ControlResult::closed);
		return;
	case RequestReader::State::timed_out:
		end(c, ControlResult::timed_out);
		return;
	case RequestReader::State::too_long:
		c.answer = "error: request line longer than " + std::to_string(limits_.max_request) +
			   " bytes\n";
		c.on_written = ControlResult::too_long;
		break;
	case RequestReader::State::complete:
		c.answer = handler(c.request.request());
		if (c.answer.empty() || c.answer.back() != '\n')
			c.answer += '\n';
		c.on_written = ControlResult::served;
		break;
	}
	c.answering = true;
	c.answer_deadline = Clock::now() + limits_.answer_deadline;
	write_to(c);
}

void ControlServer::write_to(Connection &c)
{
	while (c.sent < c.answer.size()) {
		ssize_t n = send(c.fd, c.answer.data() + c.sent, c.answer.size() - c.sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c.sent += static_cast<size_t>(n);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				end(c, ControlResult::closed);  // the client went away
			return;
		}
	}
	end(c, c.on_written);  // closing is the end of the answer
}

void ControlServer::end(Connection &c, ControlResult result)
{
	counters_[static_cast<size_t>(result)]++;
	close(c.fd);
	c.fd = -1;
}

}  // namespace tandem::director
