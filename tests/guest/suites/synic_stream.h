/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A message stream between all vCPUs, shared by suites synic-conn and
 * synic-defects (see synic_stream.c).
 */
#ifndef GUEST_SYNIC_STREAM_H
#define GUEST_SYNIC_STREAM_H

#include <stdbool.h>

/*
 * Every vCPU sends numbered messages to the next vCPU; the receiver's
 * handler takes each out of its slot and writes EOM.  Reports whether
 * every message arrived once and in order.  With lockstep a sender waits
 * for the previous message to arrive before posting the next; without,
 * it posts as fast as the connection takes them (retrying on
 * HV_STATUS_INSUFFICIENT_BUFFERS).  The SynIC must be enabled on every
 * vCPU; the stream takes SINT 11 of each, and SINT 10 for its fences.
 */
void synic_stream(bool lockstep);

#endif /* GUEST_SYNIC_STREAM_H */
