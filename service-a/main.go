// Command service-a is the Go service of the tracing demo: a Gin HTTP API
// that calls service-b and service-c and traces every hop with OpenTelemetry.
// docs/contract.md at the repository root describes what it must do.
package main

import (
	"log/slog"
	"os"
)

func main() {
	if err := run(); err != nil {
		slog.Error("service-a stopped with an error", "error", err)
		os.Exit(1)
	}
}
