package utp

import "expvar"

var (
	ackSkippedResends = expvar.NewInt("utpAckSkippedResends")
	// Fast resends whose own resend was lost and was resent again.
	lostResends = expvar.NewInt("utpLostResends")
	// Inbound packets processed by a Conn.
	deliveriesProcessed = expvar.NewInt("utpDeliveriesProcessed")
	sentStatePackets    = expvar.NewInt("utpSentStatePackets")
	// Inbound packets discarded as too far ahead of the next expected
	// one (maxUnackedInbound) or past the advertised window.
	inboundDropped         = expvar.NewInt("utpInboundDropped")
	acksReceivedAheadOfSyn = expvar.NewInt("utpAcksReceivedAheadOfSyn")
	unexpectedPacketsRead  = expvar.NewInt("utpUnexpectedPacketsRead")
	// State packets that we managed not to send.
	unsentStatePackets = expvar.NewInt("utpUnsentStatePackets")
	unusedReads        = expvar.NewInt("utpUnusedReads")
	unusedReadsDropped = expvar.NewInt("utpUnusedReadsDropped")

	largestReceivedUTPPacket       int
	largestReceivedUTPPacketExpvar = expvar.NewInt("utpLargestReceivedPacket")
)
