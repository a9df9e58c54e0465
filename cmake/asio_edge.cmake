# Asio's epoll reactor, taught that a short read empties a stream socket (issue 17).
#
# Why. Asio registers each socket once, edge-triggered, and keeps a per-socket "try the syscall
# first" flag that only an event sets and only a read of 0 bytes clears. So every receive that
# starts on a socket whose last event was already served tries a recv() first, and on a proxy
# that recv finds nothing almost every time: the app has not answered the request sent a moment
# ago, the client does not send before it has its response. Those failing recvs are about a third
# of the core's syscalls per proxied request and 3-6 µs of its CPU (bench/RESULTS.md "Deferred
# receives"); Asio has no option to skip them, and an application cannot reach the flag.
#
# What. A receive on a stream socket that returned fewer bytes than asked took everything that
# was there: the socket is marked exhausted, and the next receive waits for the next edge without
# a syscall, as an event loop written by hand on edge-triggered epoll does. A peek takes nothing
# and never marks it. One case is not covered by "a short read took everything": the peer's end
# of stream (or a reset) that arrived before the read. Its edge was already taken, and no other
# edge comes for a socket that stays at EOF, so a receive waiting for one would wait forever (the
# app that answers and closes, whose kept-alive connection then gets the next request). So the
# reactor also registers EPOLLRDHUP, remembers for each socket that its peer closed or failed, and
# never marks such a socket exhausted. And a read that exhausts the socket no longer stops the
# reactor from completing the other operations queued on it (a readiness wait behind a receive):
# they try for themselves.
#
# How. The three headers are copied from the installed Asio into the build folder with these
# edits and put ahead of it on the include path. Each edit must match the installed text exactly
# the expected number of times, and the Asio must be the one they were written against (1.22.1,
# Debian 12); otherwise the build says so and uses Asio as installed (correct, only slower).
# -DPASSENGER_ASIO_EDGE=OFF does the same.
option(PASSENGER_ASIO_EDGE "Asio's epoll reactor takes a short read as an empty socket" ON)

# One edit of an installed Asio header, kept in the caller's asio_<file> variable: `text` must
# occur exactly `times` times. A mismatch clears asio_edge_ok.
function(passenger_asio_edit file times text replacement)
  if(NOT asio_edge_ok)
    return()
  endif()
  string(MAKE_C_IDENTIFIER "${file}" key)
  if(NOT DEFINED asio_${key})
    file(READ ${PASSENGER_ASIO_INCLUDE}/${file} content)
    set(asio_edited_files ${asio_edited_files} ${file} PARENT_SCOPE)
  else()
    set(content "${asio_${key}}")
  endif()
  # Counted by the length that removing the text takes off.
  string(LENGTH "${content}" before)
  string(REPLACE "${text}" "" without "${content}")
  string(LENGTH "${without}" after)
  string(LENGTH "${text}" text_length)
  math(EXPR found "(${before} - ${after}) / ${text_length}")
  if(NOT found EQUAL times)
    message(STATUS "Asio edge-triggered reads: ${file} has this ${found} times, not ${times}: "
                   "${text}")
    set(asio_edge_ok FALSE PARENT_SCOPE)
    return()
  endif()
  string(REPLACE "${text}" "${replacement}" content "${content}")
  set(asio_${key} "${content}" PARENT_SCOPE)
endfunction()

# Writes the edited headers under `out_dir`; sets `result_var` to whether it did.
function(passenger_asio_edge_headers out_dir result_var)
  set(${result_var} FALSE PARENT_SCOPE)
  if(NOT PASSENGER_ASIO_EDGE)
    return()
  endif()
  find_path(PASSENGER_ASIO_INCLUDE asio/version.hpp)
  if(NOT PASSENGER_ASIO_INCLUDE)
    message(STATUS "Asio edge-triggered reads: Asio not found")
    return()
  endif()
  file(STRINGS ${PASSENGER_ASIO_INCLUDE}/asio/version.hpp version_line REGEX "define ASIO_VERSION ")
  if(NOT version_line MATCHES "ASIO_VERSION 102201 ")
    message(STATUS "Asio edge-triggered reads: written for Asio 1.22.1, found '${version_line}'; "
                   "using Asio as installed")
    return()
  endif()

  set(asio_edge_ok TRUE)
  set(asio_edited_files "")
  # A socket remembers that its peer closed or failed.
  passenger_asio_edit(asio/detail/epoll_reactor.hpp 1
    [=[    bool try_speculative_[max_ops];
]=] [=[    bool try_speculative_[max_ops];
    bool peer_closed_;
]=])
  passenger_asio_edit(asio/detail/impl/epoll_reactor.ipp 2
    [=[    descriptor_data->shutdown_ = false;
]=] [=[    descriptor_data->shutdown_ = false;
    descriptor_data->peer_closed_ = false;
]=])
  passenger_asio_edit(asio/detail/impl/epoll_reactor.ipp 2
    [=[EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLPRI | EPOLLET;]=]
    [=[EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLPRI | EPOLLRDHUP | EPOLLET;]=])
  passenger_asio_edit(asio/detail/impl/epoll_reactor.ipp 1
    [=[  static const int flag[max_ops] = { EPOLLIN, EPOLLOUT, EPOLLPRI };
]=] [=[  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    peer_closed_ = true;
  static const int flag[max_ops] = { EPOLLIN, EPOLLOUT, EPOLLPRI };
]=])
  # An exhausted socket waits for its next edge, unless its peer is gone (no edge would come).
  passenger_asio_edit(asio/detail/impl/epoll_reactor.ipp 1
    [=[descriptor_data->try_speculative_[op_type] = false;]=]
    [=[descriptor_data->try_speculative_[op_type] = descriptor_data->peer_closed_;]=])
  # ... and the operations queued behind the one that exhausted it try for themselves.
  passenger_asio_edit(asio/detail/impl/epoll_reactor.ipp 1
    [=[            try_speculative_[j] = false;
            break;
]=] [=[            try_speculative_[j] = peer_closed_;
]=])
  # A short read (not a peek) of a stream socket exhausts it.
  passenger_asio_edit(asio/detail/reactive_socket_recv_op.hpp 1
    [=[        if (o->bytes_transferred_ == 0)
]=] [=[        if (o->bytes_transferred_ == 0
            || ((o->flags_ & socket_base::message_peek) == 0
              && o->bytes_transferred_ < asio::buffer_size(o->buffers_)))
]=])
  if(NOT asio_edge_ok)
    message(STATUS "Asio edge-triggered reads: using Asio as installed")
    return()
  endif()
  foreach(file IN LISTS asio_edited_files)
    string(MAKE_C_IDENTIFIER "${file}" key)
    # Rewritten only when it changes: every configure run would otherwise rebuild everything.
    file(WRITE ${out_dir}/${file}.new "${asio_${key}}")
    file(COPY_FILE ${out_dir}/${file}.new ${out_dir}/${file} ONLY_IF_DIFFERENT)
    file(REMOVE ${out_dir}/${file}.new)
  endforeach()
  message(STATUS "Asio edge-triggered reads: on (${out_dir})")
  set(${result_var} TRUE PARENT_SCOPE)
endfunction()
