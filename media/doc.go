// Package media places dialdeck's calls: the phone leg (carriers), the agent
// leg, and the bridge between them. It implements engine.CallPlacer.
//
// For now it holds the seeded simulated placer used by the demo, tests and
// `dialdeck simulate`; the WebRTC agent leg and SIP carrier build on it.
package media
