package driver_test

import (
	"context"
	"testing"

	"github.com/scrapli/scrapligo/driver/generic"
	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/transport"

	"github.com/hitless/hitless/driver"
)

// The two benchmarks send the same command to the same loopback simulator; the difference in
// ns/op is the per-command overhead of driver.Session (mutex, context bridge, failure-string
// check, redaction, transcript) over the bare scrapligo generic driver.

func BenchmarkSendDriver(b *testing.B) {
	d := newDevice(b)
	cfg := d.cfg
	cfg.Transcript = driver.NewTranscript()
	s, err := driver.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	drain(d)
	b.ResetTimer()
	for b.Loop() {
		out, err := s.Send(ctx, "ha")
		if err != nil || out != haOutput {
			b.Fatalf("got %q, %v", out, err)
		}
		<-d.received
	}
}

func BenchmarkSendBareScrapligo(b *testing.B) {
	d := newDevice(b)
	cfg := d.cfg
	sd, err := generic.NewDriver(cfg.Host,
		options.WithTransportType(transport.StandardTransport),
		options.WithPort(cfg.Port),
		options.WithAuthUsername(cfg.Username),
		options.WithAuthPassword(cfg.Password),
		options.WithSSHKnownHostsFile(cfg.KnownHostsFile),
		options.WithPromptPattern(cfg.Platform.Prompt),
		options.WithTermWidth(cfg.Platform.TermWidth),
	)
	if err != nil {
		b.Fatal(err)
	}
	if err := sd.Open(); err != nil {
		b.Fatal(err)
	}
	defer sd.Close()
	b.ResetTimer()
	for b.Loop() {
		r, err := sd.SendCommand("ha")
		if err != nil || r.Result != haOutput {
			b.Fatalf("got %q, %v", r.Result, err)
		}
		<-d.received
	}
}

func drain(d *device) {
	for {
		select {
		case <-d.received:
		default:
			return
		}
	}
}
