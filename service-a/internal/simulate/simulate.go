// Package simulate is the one place where service-a fakes work: extra
// latency and forced failures, driven by the query parameters `delay_ms` and
// `fail` (docs/contract.md, "Simulation parameters").
//
// Keeping every sleep and every fake failure here means the handlers read as
// real code, and a demo knob can never hide in an unrelated file.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

const (
	// BaseLatency is added to every simulated operation, so even a plain call
	// shows up in a trace with a visible width.
	BaseLatency = 10 * time.Millisecond

	// MaxDelayMs caps delay_ms: a demo knob must not tie up a worker forever.
	MaxDelayMs = 10000

	delayAttribute = attribute.Key("app.simulated_delay_ms")
)

// ErrInvalidParameter is wrapped by every Parse error; the message names the
// parameter so the client can fix its request.
var ErrInvalidParameter = errors.New("invalid parameter")

// ErrSimulatedFailure is what Work returns when the request asked to fail.
var ErrSimulatedFailure = errors.New("simulated failure")

// Params are the parsed simulation parameters of one request.
type Params struct {
	// DelayMs is the extra latency, already clamped to 0..MaxDelayMs.
	DelayMs int
	// Fail is nil when the request did not say; the endpoint's default applies.
	Fail *bool
}

// Parse reads delay_ms and fail from a query string, by the grammar of
// docs/contract.md, "Input rules".
func Parse(query url.Values) (Params, error) {
	var p Params

	delay, present, err := Single(query, "delay_ms")
	switch {
	case err != nil:
		return Params{}, err
	case present:
		if p.DelayMs, err = parseDelay(delay); err != nil {
			return Params{}, err
		}
	}

	fail, present, err := Single(query, "fail")
	switch {
	case err != nil:
		return Params{}, err
	case !present:
	case fail == "true":
		p.Fail = ptr(true)
	case fail == "false":
		p.Fail = ptr(false)
	default:
		return Params{}, fmt.Errorf("%w: fail must be true or false", ErrInvalidParameter)
	}
	return p, nil
}

// Single is the one value of a query parameter an endpoint reads, and
// whether it was given. Given twice it is refused, even with equal values:
// there would be no rule for which one to take.
func Single(query url.Values, name string) (string, bool, error) {
	values := query[name]
	switch len(values) {
	case 0:
		return "", false, nil
	case 1:
		return values[0], true, nil
	default:
		return "", true, fmt.Errorf("%w: %s must be given at most once", ErrInvalidParameter, name)
	}
}

// delayPattern: an optional minus sign and ASCII digits, as many as sent.
var delayPattern = regexp.MustCompile(`^-?[0-9]+$`)

// parseDelay clamps any integer to 0..MaxDelayMs, also one too large for an
// int: ParseInt then reports ErrRange with the nearest int, which clamps the
// same way.
func parseDelay(raw string) (int, error) {
	if !delayPattern.MatchString(raw) {
		return 0, fmt.Errorf("%w: delay_ms must be an integer", ErrInvalidParameter)
	}
	delay, err := strconv.ParseInt(raw, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%w: delay_ms must be an integer", ErrInvalidParameter)
	}
	return int(min(max(delay, 0), MaxDelayMs)), nil
}

// ShouldFail applies the endpoint's default when the request did not decide.
func (p Params) ShouldFail(failByDefault bool) bool {
	if p.Fail != nil {
		return *p.Fail
	}
	return failByDefault
}

// Work waits BaseLatency plus the requested delay, then fails if asked to.
// It records app.simulated_delay_ms on the current span and stops early,
// returning ctx.Err(), if the request is cancelled meanwhile.
func (p Params) Work(ctx context.Context, failByDefault bool) error {
	trace.SpanFromContext(ctx).SetAttributes(delayAttribute.Int(p.DelayMs))

	timer := time.NewTimer(BaseLatency + time.Duration(p.DelayMs)*time.Millisecond)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
	}

	if p.ShouldFail(failByDefault) {
		return ErrSimulatedFailure
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
