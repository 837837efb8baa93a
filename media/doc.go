// Package media places dialdeck's calls: the phone leg (carriers), the agent
// leg (one pion WebRTC PeerConnection per call, PCMU and the oai-events data
// channel), and the bridge that relays RTP between them. Bridge implements
// engine.CallPlacer.
//
// SimPlacer's seeded draw is shared by the sim carrier, the built-in sim
// agent and `dialdeck simulate`, so a bridged run and a dry run agree on
// each call's outcome.
package media
