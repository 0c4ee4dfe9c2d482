package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    func(*Config) // applied to the defaults
		wantErr []string      // substrings of the error; nil: no error
	}{
		{name: "defaults", env: map[string]string{}, want: func(*Config) {}},
		{
			name: "native runner environment",
			env: map[string]string{
				"HOST": "127.0.0.1", "PORT": "18081", "OTEL_SERVICE_NAME": "service-a",
				"SERVICE_B_URL": "http://127.0.0.1:8082", "SERVICE_C_URL": "http://127.0.0.1:8083/",
				"DOWNSTREAM_TIMEOUT_MS": "2000", "MAX_HOPS": "5", "LOG_LEVEL": "INFO",
			},
			want: func(c *Config) {
				c.Host, c.Port = "127.0.0.1", 18081
				c.ServiceCURL = "http://127.0.0.1:8083" // trailing slash trimmed
			},
		},
		{
			name: "other values",
			env: map[string]string{
				"SERVICE_B_URL": "http://service-b:8082", "DOWNSTREAM_TIMEOUT_MS": "150",
				"MAX_HOPS": "0", "LOG_LEVEL": "debug", "OTEL_SERVICE_NAME": "service-a-canary",
			},
			want: func(c *Config) {
				c.ServiceBURL = "http://service-b:8082"
				c.DownstreamTimeout = 150 * time.Millisecond
				c.MaxHops = 0
				c.LogLevel = slog.LevelDebug
				c.ServiceName = "service-a-canary"
			},
		},
		{name: "blank values mean unset", env: map[string]string{"PORT": " ", "LOG_LEVEL": ""}, want: func(*Config) {}},
		{
			name: "every problem reported at once",
			env: map[string]string{
				"PORT": "http", "DOWNSTREAM_TIMEOUT_MS": "0", "MAX_HOPS": "-1",
				"LOG_LEVEL": "verbose", "SERVICE_C_URL": "service-c:8083",
			},
			want:    func(*Config) {},
			wantErr: []string{"PORT", "DOWNSTREAM_TIMEOUT_MS", "MAX_HOPS", "LOG_LEVEL", "SERVICE_C_URL"},
		},
		{name: "port out of range", env: map[string]string{"PORT": "70000"}, want: func(*Config) {}, wantErr: []string{"PORT"}},
		{
			name: "requests per connection",
			env:  map[string]string{"MAX_REQUESTS_PER_CONNECTION": "0"},
			want: func(c *Config) { c.MaxRequestsPerConnection = 0 },
		},
		{
			name: "conformance endpoint on",
			env:  map[string]string{"CONFORMANCE_ENDPOINT": "on"},
			want: func(c *Config) { c.ConformanceEndpoint = true },
		},
		{name: "conformance endpoint off", env: map[string]string{"CONFORMANCE_ENDPOINT": " off "}, want: func(*Config) {}},
		{
			name:    "conformance endpoint neither on nor off",
			env:     map[string]string{"CONFORMANCE_ENDPOINT": "true"},
			want:    func(*Config) {},
			wantErr: []string{"CONFORMANCE_ENDPOINT"},
		},
		{
			name:    "requests per connection not a count",
			env:     map[string]string{"MAX_REQUESTS_PER_CONNECTION": "-1"},
			want:    func(*Config) {},
			wantErr: []string{"MAX_REQUESTS_PER_CONNECTION"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadConfig(func(name string) (string, bool) {
				v, ok := tt.env[name]
				return v, ok
			})

			want := defaultConfig()
			tt.want(&want)
			if got != want {
				t.Errorf("config\n got %+v\nwant %+v", got, want)
			}
			if tt.wantErr == nil && err != nil {
				t.Errorf("unexpected error: %v", err)
			}
			if tt.wantErr != nil && err == nil {
				t.Fatalf("want an error naming %v", tt.wantErr)
			}
			for _, name := range tt.wantErr {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error %q does not name %s", err, name)
				}
			}
		})
	}
}

func TestConfigAddr(t *testing.T) {
	cfg := defaultConfig()
	cfg.Host, cfg.Port = "::1", 8081
	if got := cfg.Addr(); got != "[::1]:8081" {
		t.Errorf("Addr() = %q", got)
	}
}
