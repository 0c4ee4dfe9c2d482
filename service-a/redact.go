package main

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// credentialParams are the query parameters whose values never reach a span
// (docs/contract.md, "Secrets never stored"), lower-case: names match in any
// ASCII case. The contract's list is observability/credential-redaction.json;
// redact_test.go checks this one against it.
var credentialParams = map[string]bool{
	"token": true, "access_token": true, "refresh_token": true, "id_token": true,
	"password": true, "passwd": true, "pwd": true, "secret": true, "client_secret": true,
	"api_key": true, "apikey": true, "key": true, "auth": true, "credential": true, "session": true,
	"sig": true, "signature": true,
	"awsaccesskeyid": true, "x-amz-credential": true, "x-amz-security-token": true, "x-amz-signature": true,
	"googleaccessid": true, "x-goog-credential": true, "x-goog-signature": true,
}

const redacted = "REDACTED"

// asciiWhiteSpace is white space as WHATWG counts it: it ends a name or a value.
const asciiWhiteSpace = "\t\n\f\r "

// redactingProcessor stands in front of the processor that exports spans
// and hands it each ended span with the credentials in its texts replaced
// (url.full, url.query and any other text quoting a URL). It acts when the span ends because otelhttp sets url.full after
// starting the client span, and neither otelhttp nor otelgin has an option
// to shape that attribute. Every instrumentation of the process goes through
// it; the Collector's transform/redact processor is the safety net for all
// services, this one keeps the secret from ever leaving the process.
type redactingProcessor struct {
	sdktrace.SpanProcessor // the exporting processor: OnStart, Shutdown, ForceFlush pass through
}

func (p redactingProcessor) OnEnd(span sdktrace.ReadOnlySpan) {
	p.SpanProcessor.OnEnd(redactSpan(span))
}

// redactedSpan is an ended span with its texts replaced; the SDK's read-only
// spans are immutable, embedding is how one is amended.
type redactedSpan struct {
	sdktrace.ReadOnlySpan
	attributes []attribute.KeyValue
	events     []sdktrace.Event
	status     sdktrace.Status
}

func (s redactedSpan) Attributes() []attribute.KeyValue { return s.attributes }
func (s redactedSpan) Events() []sdktrace.Event         { return s.events }
func (s redactedSpan) Status() sdktrace.Status          { return s.status }

// redactSpan applies the rule to every text a span exports that could quote
// a URL: string attributes, event attributes and the status description.
func redactSpan(span sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	attributes, changed := redactAttributes(span.Attributes())
	events, eventsCopied := span.Events(), false
	for i, event := range events {
		if clean, eventChanged := redactAttributes(event.Attributes); eventChanged {
			if !eventsCopied {
				events, eventsCopied = slices.Clone(events), true
			}
			events[i].Attributes, changed = clean, true
		}
	}
	status := span.Status()
	if description := redact(status.Description); description != status.Description {
		status.Description, changed = description, true
	}
	if !changed {
		return span
	}
	return redactedSpan{ReadOnlySpan: span, attributes: attributes, events: events, status: status}
}

// redactAttributes returns the attributes with every string value redacted,
// copied on the first change only, and whether anything changed.
func redactAttributes(original []attribute.KeyValue) ([]attribute.KeyValue, bool) {
	var clean []attribute.KeyValue
	for i, kv := range original {
		if kv.Value.Type() != attribute.STRING {
			continue
		}
		value := kv.Value.AsString()
		if redactedValue := redact(value); redactedValue != value {
			if clean == nil {
				clean = slices.Clone(original)
			}
			clean[i] = kv.Key.String(redactedValue)
		}
	}
	if clean == nil {
		return original, false
	}
	return clean, true
}

// redact replaces the value of every credential parameter in a query, a URL
// or a message quoting one (docs/contract.md, "Secrets never stored"): a
// parameter starts the text or follows '?', '&', ';' or '#', its name runs to
// '=', its value to the next '&' or white space. Everything else is kept byte
// for byte, so the text still shows which parameters were sent.
func redact(text string) string {
	var out strings.Builder
	copied, start := 0, 0
	for {
		nameEnd := start + indexOrEnd(text[start:], "=&;#?"+asciiWhiteSpace)
		resume := nameEnd
		if nameEnd < len(text) && text[nameEnd] == '=' && isCredential(text[start:nameEnd]) {
			resume = nameEnd + 1 + indexOrEnd(text[nameEnd+1:], "&"+asciiWhiteSpace)
			out.WriteString(text[copied : nameEnd+1])
			out.WriteString(redacted)
			copied = resume
		}
		next := strings.IndexAny(text[resume:], "?&;#")
		if next < 0 {
			if copied == 0 {
				return text
			}
			out.WriteString(text[copied:])
			return out.String()
		}
		start = resume + next + 1
	}
}

func indexOrEnd(s, chars string) int {
	if i := strings.IndexAny(s, chars); i >= 0 {
		return i
	}
	return len(s)
}

// isCredential reads a parameter name as a form decoder does, cuts it at
// brackets (user[password], token[]) and trims each part: any part that is
// a listed name in ASCII makes it a credential.
func isCredential(rawName string) bool {
	parts := strings.FieldsFunc(formDecode(rawName), func(r rune) bool { return r == '[' || r == ']' })
	for _, part := range parts {
		part = strings.Trim(part, asciiWhiteSpace)
		// ASCII only: strings.ToLower would turn a Kelvin sign into "k".
		if isASCII(part) && credentialParams[strings.ToLower(part)] {
			return true
		}
	}
	return false
}

// formDecode decodes like a WHATWG form decoder: '+' is a space and each %XX
// escape its byte, an escape that is not one stays as written (where
// url.QueryUnescape refuses the whole name, and %74oken would go unread).
func formDecode(raw string) string {
	decoded := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '+':
			decoded = append(decoded, ' ')
		case raw[i] == '%' && i+2 < len(raw):
			if b, err := strconv.ParseUint(raw[i+1:i+3], 16, 8); err == nil {
				decoded = append(decoded, byte(b))
				i += 2
				continue
			}
			decoded = append(decoded, '%')
		default:
			decoded = append(decoded, raw[i])
		}
	}
	return string(decoded)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
