package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Leadership: TryLead and the Lease it grants, over the backend's lock.

func (s *sqlStore) TryLead(ctx context.Context, name string) (Lease, bool, error) {
	if err := checkLeaseName(name); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, false, errors.New("trying to lead: the store is closed")
	}
	h, ok, err := s.db.tryLead(ctx, name)
	if err != nil {
		return nil, false, fmt.Errorf("trying to lead %q: %w", name, err)
	}
	if !ok {
		return nil, false, nil
	}
	l := &lease{s: s, name: name, h: h}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed { // closed meanwhile
		return nil, false, errors.Join(errors.New("trying to lead: the store is closed"), h.release())
	}
	s.leases[l] = true
	return l, true, nil
}

// checkLeaseName: a lease name becomes part of a file name (SQLite), so
// it is 1 to maxLease letters, digits, '.', '_' and '-', not starting
// with '.'.
func checkLeaseName(name string) error {
	if name == "" || len(name) > maxLease || name[0] == '.' {
		return invalid("lease name %q: want 1 to %d letters, digits, '.', '_' or '-', not starting with '.'", name, maxLease)
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return invalid("lease name %q: want 1 to %d letters, digits, '.', '_' or '-', not starting with '.'", name, maxLease)
		}
	}
	return nil
}

// A lease is a Lease of either backend.
type lease struct {
	s    *sqlStore
	name string

	mu       sync.Mutex // serialises check and release on h
	h        held
	released bool
}

func (l *lease) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return fmt.Errorf("lease %q was released: %w", l.name, ErrNotLeader)
	}
	if err := l.h.check(ctx); err != nil {
		return fmt.Errorf("lease %q: %w", l.name, err)
	}
	return nil
}

func (l *lease) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return nil
	}
	l.released = true
	l.s.mu.Lock()
	delete(l.s.leases, l)
	l.s.mu.Unlock()
	if err := l.h.release(); err != nil {
		return fmt.Errorf("releasing lease %q: %w", l.name, err)
	}
	return nil
}
