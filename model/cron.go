package model

import (
	"errors"
	"time"

	"github.com/robfig/cron/v3"
)

// ParseCron parses a schedule's cron expression: five fields (minute hour
// day-of-month month day-of-week) or a descriptor (@hourly, @daily,
// @weekly, @monthly, @yearly, @every DURATION), in UTC unless it starts
// with CRON_TZ=ZONE. It refuses a schedule that never fires and one that
// fires more often than once a minute.
func ParseCron(expr string) (cron.Schedule, error) {
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
