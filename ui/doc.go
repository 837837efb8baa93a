// Package ui will hold dialdeck's Bubble Tea TUI: the live campaign monitor
// and controller. It is not built yet (dialdeck says so when started
// without a command); it will talk only to the engine's public API and its
// Subscribe event stream.
package ui
