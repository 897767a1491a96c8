package model

import (
	"errors"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ParseCron parses a schedule's cron expression: five fields (minute hour
// day-of-month month day-of-week) or a descriptor (@hourly, @daily,
// @weekly, @monthly, @yearly, @every DURATION), in UTC. It refuses a
// schedule that never fires, one that fires more often than once a
// minute, and a time zone (CRON_TZ=, TZ=): loading one reads the system's
// zone files, and the model does no I/O.
func ParseCron(expr string) (cron.Schedule, error) {
	if t := strings.TrimSpace(expr); strings.HasPrefix(t, "CRON_TZ=") || strings.HasPrefix(t, "TZ=") {
		return nil, errors.New("schedules are in UTC: write the time in UTC, without CRON_TZ= or TZ=")
	}
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, err
	}
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	first := s.Next(t0)
	if first.IsZero() {
		return nil, errors.New("it never fires")
	}
	if next := s.Next(first); !next.IsZero() && next.Sub(first) < time.Minute {
		return nil, errors.New("it fires more often than once a minute")
	}
	return s, nil
}
