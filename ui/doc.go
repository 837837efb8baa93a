// Package ui is dialdeck's Bubble Tea TUI: the campaign list and the live
// monitor of one campaign, k9s-style.
//
// It talks to the dialer only through the Engine interface (the engine's
// public operations) and an Events stream, never to *engine.Engine itself, so
// the same UI can later attach to an engine in another process. Reads that may
// touch disk run in tea.Cmds and come back as messages tagged with a sequence
// number (stale ones are dropped); View renders only cached data.
package ui
