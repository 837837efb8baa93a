// Package engine is the core of dialdeck: campaigns and their lifecycle, lead
// import, the dialing schedule and tick, retries, dispositions, the DNC list,
// reports and the event stream the UI watches.
//
// It imports none of dialdeck's other packages. Storage, media and the UI
// plug in through the ports defined here (Store, CallPlacer, Clock).
package engine
