package main

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"time"
)

// validXTraceID is the contract's rule (docs/contract.md, "Headers"), the same
// one the gateway applies: short and plain, so it is safe in any log line.
var validXTraceID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// resolveXTraceID keeps a valid incoming X-Trace-ID and replaces anything
// else (absent, too long, quotes, newlines...) with a fresh one.
func resolveXTraceID(incoming string, now time.Time) string {
	if validXTraceID.MatchString(incoming) {
		return incoming
	}
	return mintXTraceID(now)
}

// mintXTraceID makes an id in the gateway's format:
// trace-<UTC YYYYMMDDTHHMMSSZ>-<8 hex>.
func mintXTraceID(now time.Time) string {
	random := make([]byte, 4)
	_, _ = rand.Read(random) // crypto/rand.Read never fails (Go 1.24+).
	return "trace-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(random)
}
