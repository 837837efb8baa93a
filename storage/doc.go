// Package storage is dialdeck's bbolt implementation of engine.Store.
//
// One bbolt file holds everything. Keys are big-endian so that byte order is
// numeric and time order, which makes the due index a sorted queue:
//
//	meta                          "schema" -> u64 schema version
//	campaigns/<cid u64>           one nested bucket per campaign:
//	    meta                      JSON of engine.Campaign (a key, not a bucket)
//	    leads/     lid u64        -> compact binary lead (see encoding.go)
//	    due/       group u16|dueAt u64 (unix ms)|lid u64 -> ""   (pending, retry)
//	    inflight/  lid u64        -> attempt u32|startedAt i64 ms (status dialing)
//	    counters/  "leads", "attempts", "s:<status>", "d:<disposition>" -> u64
//	    attempts/  lid u64|attempt u32 -> JSON of engine.Attempt
//	    phones/    E.164 digits u64 -> lid u64
//	dnc/                          E.164 -> JSON {addedAt, source}; the bucket's
//	                              sequence is the entry count
//	outbox/                       reserved for webhook delivery
//
// The due index, in-flight records and counters are derived from the leads and
// maintained in the same transaction as every lead change; Check recounts them.
// Times are stored with millisecond precision and returned in UTC; the zero
// time is stored as 0 (so the instant 1970-01-01T00:00:00Z reads back as zero).
package storage
