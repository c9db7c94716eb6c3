// Package logflood keeps a log readable when the network is hostile.
//
// Anyone who can send a packet can make a peer-to-peer node log a line: a
// malformed DHT message, a failed handshake, a bad piece. A Handler wraps a
// log/slog handler and lets at most Burst records with the same message
// through per Window; the rest are counted, and the first record after a
// window that dropped some says how many were dropped. Messages are
// constant strings with the details in attributes (the Shoal style), so
// the message is the key; the number of keys is capped, so variable
// messages cannot grow the table without bound.
package logflood
