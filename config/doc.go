// Package config loads dialdeck's TOML configuration: engine settings, org
// capacity, voice agents, caller numbers, the simulated carrier, webhooks, the
// DNC import file and optional draft campaigns.
//
// It only parses and checks the file; main.go converts the result into engine
// and media types, so this package imports no other dialdeck package.
//
// Every error points at the place in the file that caused it, as
// "file:line:column: key.path: message", so a user can jump straight to it.
// String values may reference environment variables as ${NAME}; secrets
// (agent tokens, the webhook signing secret) are held in Secret, which never
// prints its value.
package config
