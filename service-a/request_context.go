package main

import "context"

// The request-scoped values other layers need: the logging handler reads the
// X-Trace-ID, the downstream client copies both onto outbound calls. Keys are
// unexported types so no other package can collide with them.
type (
	xTraceIDKey struct{}
	hopCountKey struct{}
)

func withXTraceID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, xTraceIDKey{}, id)
}

// xTraceIDFrom returns the request's X-Trace-ID, or "" outside a request.
func xTraceIDFrom(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(xTraceIDKey{}).(string)
	return id
}

func withHopCount(ctx context.Context, hops int) context.Context {
	return context.WithValue(ctx, hopCountKey{}, hops)
}

// hopCountFrom returns the incoming X-Hop-Count (0 when absent).
func hopCountFrom(ctx context.Context) int {
	hops, _ := ctx.Value(hopCountKey{}).(int)
	return hops
}
