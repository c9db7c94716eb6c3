// Package lossylink is a userspace network link for benchmarks: it
// forwards IP packets between two TUN devices and adds what this
// machine's kernel cannot (it has no netem): a one-way delay, random loss
// and a rate cap with a bounded queue, independently in each direction.
//
// The model, per direction. A packet read from one side is first dropped
// at random with probability Loss (a lossy medium). A survivor then joins
// a FIFO queue served at Rate bits per second: it leaves the queue when
// the packets before it and itself have been serialised
// (depart = max(now, last depart) + size×8/Rate), and it is dropped
// instead (tail drop, as a router's buffer overflows) when that would
// keep it queued longer than Queue. It is written to the other side Delay
// after it departs. So the round-trip time of an idle link is twice Delay,
// a loaded link adds up to Queue each way, and throughput is capped at
// Rate. Delivery keeps the order of arrival.
//
// Timing is done by sleeping goroutines, so on a loaded machine packets
// can be late by the scheduler's delay (about a millisecond); the tests
// measure RTT, loss and rate through real sockets and check them against
// the configuration with tolerances.
//
// OpenTUN creates a TUN device (IFF_TUN, no packet information) in a
// named network namespace from the calling process: the creating thread
// enters the namespace, and the device's file descriptor keeps working
// from any thread afterwards. internal/netlab builds the namespaces and
// the policy routing that sends traffic through the two devices.
package lossylink
