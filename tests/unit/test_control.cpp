// SPDX-License-Identifier: Apache-2.0
// The control socket: the request reader's deadline and cap on their own (no sockets),
// then the server on real unix sockets in a temporary directory, driven by a poll loop as
// the daemon's: a slow client does not hold up another, extra clients are refused, a live
// server's socket is never taken over, a stale one is replaced, answers arrive whole.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "control.h"

using namespace tandem::director;
using namespace std::chrono_literals;
using State = RequestReader::State;
using Clock = RequestReader::Clock;

TEST_CASE("request reader: the deadline runs from accept for the whole line, not per byte")
{
	const Clock::time_point t0{};
	RequestReader r(t0, 2s, 4096);
	// One byte every 500 ms: each read is "recent", the request is not.
	const std::string dribble = "reload";
	for (size_t i = 0; i < 4; i++) {
		CHECK(r.expire(t0 + i * 500ms) == State::reading);
		CHECK(r.feed(dribble.substr(i, 1)) == State::reading);
	}
	CHECK(r.expire(t0 + 1999ms) == State::reading);
	CHECK(r.expire(t0 + 2s) == State::timed_out);
	CHECK(r.feed("ad\n") == State::timed_out);  // too late: stays timed out
	CHECK(r.request().empty());
}

TEST_CASE("request reader: a line ends at the first newline, \\r\\n too; the rest is ignored")
{
	RequestReader r(Clock::time_point{}, 2s, 4096);
	CHECK(r.feed("reload fo") == State::reading);
	CHECK(r.feed("rce\r\nstatus\n") == State::complete);
	CHECK(r.request() == "reload force");
	CHECK(r.expire(Clock::time_point{} + 1h) == State::complete);
	CHECK(r.feed("more") == State::complete);
	CHECK(r.request() == "reload force");
}

TEST_CASE("request reader: a line over the cap is too long, whatever comes after")
{
	RequestReader r(Clock::time_point{}, 2s, 8);
	CHECK(r.feed("12345678") == State::reading);  // exactly the cap, no newline yet
	CHECK(r.feed("9") == State::too_long);
	CHECK(r.feed("\n") == State::too_long);
	RequestReader exact(Clock::time_point{}, 2s, 8);
	CHECK(exact.feed("12345678\n") == State::complete);
}

TEST_CASE("request reader: end of stream completes a last line, or means nothing was sent")
{
	RequestReader r(Clock::time_point{}, 2s, 4096);
	r.feed("status");
	CHECK(r.end_of_stream() == State::complete);
	CHECK(r.request() == "status");
	RequestReader quiet(Clock::time_point{}, 2s, 4096);
	CHECK(quiet.end_of_stream() == State::empty);
}

namespace {

struct TempDir {
	std::string path;
	TempDir()
	{
		char t[] = "/tmp/tandem-control-test.XXXXXX";
		REQUIRE(mkdtemp(t) != nullptr);
		path = t;
	}
	~TempDir()
	{
		std::error_code ignored;  // a test's leftovers in /tmp are not worth a failure
		std::filesystem::remove_all(path, ignored);
	}
};

sockaddr_un address(const std::string &path)
{
	sockaddr_un sa{};
	sa.sun_family = AF_UNIX;
	std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
	return sa;
}

int connect_to(const std::string &path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_un sa = address(path);
	REQUIRE(connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) == 0);
	return fd;
}

// Reads until the server closes (or `wait` passes); the whole answer.
std::string read_to_end(int fd, std::chrono::milliseconds wait = 2s)
{
	std::string out;
	char buf[512];
	const auto end = Clock::now() + wait;
	while (Clock::now() < end) {
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, 10) <= 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		out.append(buf, static_cast<size_t>(n));
	}
	return out;
}

// One round of the daemon's control loop: poll what the server asks for, then process.
void round(ControlServer &s, const ControlServer::Handler &h, int max_ms = 20)
{
	std::vector<pollfd> fds;
	s.add_pollfds(fds);
	int timeout = max_ms;
	if (auto d = s.next_deadline())
		timeout = std::clamp<int>(
			static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(*d - Clock::now()).count()), 0,
			max_ms);
	poll(fds.data(), fds.size(), timeout);
	s.process(fds, h);
}

uint64_t count(const ControlServer &s, ControlResult r)
{
	return s.counters()[static_cast<size_t>(r)];
}

std::string echo(const std::string &req) { return "ok " + req; }

}  // namespace

TEST_CASE("control server: a slow client does not hold up another, and is dropped at its deadline")
{
	TempDir dir;
	const std::string path = dir.path + "/c.sock";
	auto s = ControlServer::listen(path, ControlLimits{.request_deadline = 300ms});
	REQUIRE(s);
	int slow = connect_to(path);
	REQUIRE(write(slow, "r", 1) == 1);
	round(*s, echo);
	const auto t0 = Clock::now();
	int quick = connect_to(path);
	REQUIRE(write(quick, "status\n", 7) == 7);
	std::string got;
	for (int i = 0; i < 10 && count(*s, ControlResult::served) == 0; i++) {
		round(*s, echo);
		REQUIRE(send(slow, "e", 1, MSG_NOSIGNAL) == 1);  // keeps dribbling
	}
	got = read_to_end(quick, 100ms);
	CHECK(got == "ok status\n");
	CHECK(Clock::now() - t0 < 250ms);
	CHECK(count(*s, ControlResult::served) == 1);
	// The slow one: still open, then closed at 300 ms from its accept however it dribbles.
	CHECK(s->clients() == 1);
	while (s->clients() > 0 && Clock::now() - t0 < 2s) {
		[[maybe_unused]] ssize_t n = send(slow, "l", 1, MSG_NOSIGNAL);
		round(*s, echo);
		std::this_thread::sleep_for(20ms);
	}
	CHECK(s->clients() == 0);
	CHECK(Clock::now() - t0 < 600ms);
	CHECK(count(*s, ControlResult::timed_out) == 1);
	CHECK(read_to_end(slow, 100ms).find("no complete request line within 300 ms") !=
	      std::string::npos);
	close(slow);
	close(quick);
}

TEST_CASE("control server: at most max_clients at once; one more is told so and counted")
{
	TempDir dir;
	const std::string path = dir.path + "/c.sock";
	auto s = ControlServer::listen(path, ControlLimits{.max_clients = 2});
	REQUIRE(s);
	int a = connect_to(path), b = connect_to(path);
	round(*s, echo);
	round(*s, echo);
	CHECK(s->clients() == 2);
	int c = connect_to(path);
	round(*s, echo);
	CHECK(read_to_end(c, 200ms) == "error: 2 control clients are connected already; try again\n");
	CHECK(count(*s, ControlResult::refused) == 1);
	CHECK(s->clients() == 2);
	REQUIRE(write(a, "x\n", 2) == 2);
	round(*s, echo);
	CHECK(read_to_end(a, 200ms) == "ok x\n");
	close(a);
	close(b);
	close(c);
	round(*s, echo);
	CHECK(s->clients() == 0);
	CHECK(count(*s, ControlResult::closed) == 1);  // b: gone without a request
}

TEST_CASE("control server: a multi-line answer arrives whole; the close ends it")
{
	TempDir dir;
	const std::string path = dir.path + "/c.sock";
	auto s = ControlServer::listen(path);
	REQUIRE(s);
	std::string big = "error: three problems";
	for (int i = 0; i < 3; i++)
		big += "\nf.yaml:" + std::to_string(i + 1) + ":5: backend: " + std::string(40000, 'x');
	int fd = connect_to(path);
	REQUIRE(write(fd, "reload\n", 7) == 7);
	std::string got;
	for (int i = 0; i < 50 && count(*s, ControlResult::served) == 0; i++) {  // 120 kB: more than one write
		round(*s, [&](const std::string &) { return big; });
		char buf[65536];
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			got.append(buf, static_cast<size_t>(n));
	}
	got += read_to_end(fd, 200ms);
	CHECK(got.size() == big.size() + 1);
	CHECK((got == big + "\n"));  // (in parentheses: doctest would print 120 kB)
	CHECK(count(*s, ControlResult::served) == 1);
	close(fd);
}

TEST_CASE("control server: a too-long request line gets an error, not a bigger buffer")
{
	TempDir dir;
	const std::string path = dir.path + "/c.sock";
	auto s = ControlServer::listen(path, ControlLimits{.max_request = 16});
	REQUIRE(s);
	int fd = connect_to(path);
	const std::string req(100, 'a');
	REQUIRE(write(fd, req.data(), req.size()) == 100);
	round(*s, echo);
	CHECK(read_to_end(fd, 200ms) == "error: request line longer than 16 bytes\n");
	CHECK(count(*s, ControlResult::too_long) == 1);
	close(fd);
}

TEST_CASE("control server: a live server's socket is refused and left alone")
{
	TempDir dir;
	const std::string path = dir.path + "/c.sock";
	auto first = ControlServer::listen(path);
	REQUIRE(first);
	struct stat before, after;
	REQUIRE(stat(path.c_str(), &before) == 0);
	auto second = ControlServer::listen(path);
	REQUIRE_FALSE(second);
	const std::string msg = second.error().message;
	CHECK(msg.find("control socket " + path + " is in use by") != std::string::npos);
	CHECK(msg.find("(pid " + std::to_string(getpid()) + ")") != std::string::npos);
	CHECK(msg.find("stop it first") != std::string::npos);
	REQUIRE(stat(path.c_str(), &after) == 0);
	CHECK(before.st_ino == after.st_ino);
	int fd = connect_to(path);  // the first still answers
	REQUIRE(write(fd, "status\n", 7) == 7);
	for (int i = 0; i < 5; i++)
		round(*first, echo);
	CHECK(read_to_end(fd, 200ms) == "ok status\n");
	close(fd);
}

TEST_CASE("control server: a stale socket (nobody listening) is replaced; a plain file is not")
{
	TempDir dir;
	const std::string path = dir.path + "/c.sock";
	{  // what a killed daemon leaves: the file, no listener
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		sockaddr_un sa = address(path);
		REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) == 0);
		close(fd);
	}
	auto s = ControlServer::listen(path);
	REQUIRE(s);
	int fd = connect_to(path);
	REQUIRE(write(fd, "status\n", 7) == 7);
	round(*s, echo);
	CHECK(read_to_end(fd, 200ms) == "ok status\n");
	close(fd);

	const std::string file = dir.path + "/not-a-socket";
	std::ofstream(file) << "keep me\n";
	auto refused = ControlServer::listen(file);
	REQUIRE_FALSE(refused);
	CHECK(refused.error().message.find("exists and is not a socket") != std::string::npos);
	std::ifstream in(file);
	std::string line;
	std::getline(in, line);
	CHECK(line == "keep me");
}

TEST_CASE("control server: at exit it removes its own socket file, never one put in its place")
{
	TempDir dir;
	const std::string path = dir.path + "/c.sock";
	{
		auto s = ControlServer::listen(path);
		REQUIRE(s);
	}
	struct stat st;
	CHECK(lstat(path.c_str(), &st) != 0);
	{
		auto s = ControlServer::listen(path);
		REQUIRE(s);
		unlink(path.c_str());
		std::ofstream(path) << "someone else's\n";
	}
	CHECK(lstat(path.c_str(), &st) == 0);
}
