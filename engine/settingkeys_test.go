package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestSettingsAndShareOptionsSurviveRestart: settings and a shared item's
// options (limits, ratio target) are the same after a restart; a shared
// item's options were lost before. The key migration itself is tested in
// state (TestSettingKeysMigration).
func TestSettingsAndShareOptionsSurviveRestart(t *testing.T) {
	cfg := enginetest.Config(t)
	e := enginetest.Start(t, cfg)
	file := enginetest.RandomFile(t, t.TempDir(), "keys.bin", 1000)
	ih, err := e.ShareSync(context.Background(), file, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := e.Settings()
	s.RatioTarget, s.SeedTimeLimit, s.OnTarget = 2.5, 3*time.Hour, "remove"
	if err := e.SetSettings(s); err == nil || !strings.Contains(err.Error(), "choose pause") {
		t.Fatalf("an unknown target action: %v, want the choices", err)
	}
	s.OnTarget = engine.TargetStop
	ratio := 4.0
	if err := e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if err := e.SetTransferOptions(ih, engine.TransferOptions{UploadLimit: 12345, RatioTarget: &ratio}); err != nil {
		t.Fatal(err)
	}
	e.Stop()

	e = enginetest.Start(t, cfg)
	got := e.Settings()
	if got.RatioTarget != 2.5 || got.SeedTimeLimit != 3*time.Hour || got.OnTarget != engine.TargetStop {
		t.Fatalf("settings after a restart: ratio %v, seed time %v, on target %q; want 2.5, 3h, stop",
			got.RatioTarget, got.SeedTimeLimit, got.OnTarget)
	}
	o, err := e.TransferOptions(ih)
	if err != nil {
		t.Fatal(err)
	}
	if o.UploadLimit != 12345 || o.RatioTarget == nil || *o.RatioTarget != 4 {
		t.Fatalf("transfer options after a restart: %+v, want upload limit 12345 and ratio 4", o)
	}
}
