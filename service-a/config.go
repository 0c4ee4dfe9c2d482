package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is everything service-a reads from its environment (docs/contract.md,
// "Environment"). The OpenTelemetry SDK reads the other OTEL_* variables itself.
type Config struct {
	Host                     string
	Port                     int
	ServiceName              string
	ServiceBURL              string
	ServiceCURL              string
	DownstreamTimeout        time.Duration
	MaxHops                  int
	MaxRequestsPerConnection int
	LogLevel                 slog.Level
	// ConformanceEndpoint: whether POST /test is routed at all. It calls any
	// URL its body names, so it is served only where a run mode asks for it.
	ConformanceEndpoint bool
}

// defaultConfig holds the documented defaults (service-a/README.md).
func defaultConfig() Config {
	return Config{
		Host:                     "0.0.0.0",
		Port:                     8081,
		ServiceName:              "service-a",
		ServiceBURL:              "http://127.0.0.1:8082",
		ServiceCURL:              "http://127.0.0.1:8083",
		DownstreamTimeout:        2000 * time.Millisecond,
		MaxHops:                  5,
		MaxRequestsPerConnection: 5,
		LogLevel:                 slog.LevelInfo,
	}
}

// Addr is the listen address for net.Listen.
func (c Config) Addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// loadConfig reads the environment through lookup (os.LookupEnv in
// production, a map in tests). It reports every invalid variable at once, and
// still returns the valid values and defaults next to the error, so the
// caller can log that error in the service's own JSON shape.
func loadConfig(lookup func(string) (string, bool)) (Config, error) {
	cfg := defaultConfig()
	var errs []error
	get := func(name string) (string, bool) {
		value, ok := lookup(name)
		value = strings.TrimSpace(value)
		return value, ok && value != ""
	}

	if v, ok := get("HOST"); ok {
		cfg.Host = v
	}
	if v, ok := get("PORT"); ok {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			errs = append(errs, fmt.Errorf("PORT=%q: want a port number 1-65535", v))
		} else {
			cfg.Port = port
		}
	}
	if v, ok := get("OTEL_SERVICE_NAME"); ok {
		cfg.ServiceName = v
	}
	for _, downstream := range []struct {
		name   string
		target *string
	}{
		{"SERVICE_B_URL", &cfg.ServiceBURL},
		{"SERVICE_C_URL", &cfg.ServiceCURL},
	} {
		if v, ok := get(downstream.name); ok {
			if err := checkBaseURL(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", downstream.name, v, err))
				continue
			}
			*downstream.target = strings.TrimRight(v, "/")
		}
	}
	if v, ok := get("DOWNSTREAM_TIMEOUT_MS"); ok {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 1 {
			errs = append(errs, fmt.Errorf("DOWNSTREAM_TIMEOUT_MS=%q: want a positive integer", v))
		} else {
			cfg.DownstreamTimeout = time.Duration(ms) * time.Millisecond
		}
	}
	if v, ok := get("MAX_HOPS"); ok {
		hops, err := strconv.Atoi(v)
		if err != nil || hops < 0 {
			errs = append(errs, fmt.Errorf("MAX_HOPS=%q: want a non-negative integer", v))
		} else {
			cfg.MaxHops = hops
		}
	}
	if v, ok := get("MAX_REQUESTS_PER_CONNECTION"); ok {
		limit, err := strconv.Atoi(v)
		if err != nil || limit < 0 {
			errs = append(errs, fmt.Errorf("MAX_REQUESTS_PER_CONNECTION=%q: want a non-negative integer", v))
		} else {
			cfg.MaxRequestsPerConnection = limit
		}
	}
	if v, ok := get("CONFORMANCE_ENDPOINT"); ok {
		switch v {
		case "on":
			cfg.ConformanceEndpoint = true
		case "off":
			cfg.ConformanceEndpoint = false
		default:
			errs = append(errs, fmt.Errorf("CONFORMANCE_ENDPOINT=%q: want on or off", v))
		}
	}
	if v, ok := get("LOG_LEVEL"); ok {
		level, err := parseLevel(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL=%q: %w", v, err))
		} else {
			cfg.LogLevel = level
		}
	}
	return cfg, errors.Join(errs...)
}

func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an absolute http(s) URL")
	}
	return nil
}

// parseLevel accepts the level names of the log schema, case-insensitively.
func parseLevel(name string) (slog.Level, error) {
	switch strings.ToUpper(name) {
	case "DEBUG":
		return slog.LevelDebug, nil
	case "INFO":
		return slog.LevelInfo, nil
	case "WARN":
		return slog.LevelWarn, nil
	case "ERROR":
		return slog.LevelError, nil
	}
	return 0, errors.New("want DEBUG, INFO, WARN or ERROR")
}
