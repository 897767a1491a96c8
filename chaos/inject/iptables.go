package inject

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// IPTables injects a fault with an iptables rule that drops or rejects
// TCP traffic to a port, inside a network namespace:
//
//	iptables -w -I INPUT -p tcp --dport PORT -m comment --comment COMMENT -j DROP
//
// or -j REJECT --reject-with tcp-reset. Where ip6tables is installed and
// the kernel has IPv6, the same rule goes into ip6tables too, so that
// clients on ::1 or v6 addresses meet the fault as well.
//
// The binding's action decides what clients meet, not the fault passed to
// Inject: drop is a blackhole (connections hang, established ones stall),
// reject is down (connections are refused, established ones reset). The
// rule has no TTL: if spof dies, it stays until `spof chaos recover`.
type IPTables struct {
	Port   int
	Netns  string // a named netns (ip netns, /run/netns/NAME); "" = the current network namespace
	Action string // "drop" or "reject"; "" = drop
	// Comment tags the rule, so that two experiments never remove each
	// other's rule: spof-<experiment>.
	Comment string
}

// iptablesUndo names the rule: the same spec inserts, checks and deletes it.
type iptablesUndo struct {
	Port    int    `json:"port"`
	Netns   string `json:"netns,omitempty"`
	Action  string `json:"action"`
	Comment string `json:"comment"`
	// Tables holds the paths of iptables and, where IPv6 is on, ip6tables,
	// found when the fault was prepared: recovery may run with another PATH.
	Tables []string `json:"tables"`
	IP     string   `json:"ip,omitempty"` // the path of ip, for a named netns
}

const (
	netnsDir        = "/run/netns" // where ip netns keeps named namespaces
	maxCommentBytes = 255          // xt_comment's limit; iptables truncates longer ones silently
	capNetAdmin     = 12
	capSysAdmin     = 21
)

// Prepare checks the rule can be added here (the port and action, the
// netns, iptables and the privileges to run it) and returns the undo
// record of its fault; nothing is injected yet.
func (t IPTables) Prepare(context.Context) (Undo, error) {
	u, err := t.undo()
	if err != nil {
		return Undo{}, err
	}
	return marshalUndo("iptables", u), nil
}

// Inject inserts the rule, in ip6tables too where IPv6 is on. f is not
// used: the action decides the fault (see IPTables). If Inject fails half
// way, restoring through the undo record removes what it added.
func (t IPTables) Inject(ctx context.Context, _ Undo, _ Fault) error {
	u, err := t.undo()
	if err != nil {
		return err
	}
	for _, bin := range u.Tables {
		if err := u.iptables(ctx, bin, "-I"); err != nil {
			return fmt.Errorf("injecting %s: %w", u, err)
		}
	}
	return nil
}

// undo checks t and finds the programs the rule needs, cheapest checks
// first.
func (t IPTables) undo() (iptablesUndo, error) {
	if t.Port < 1 || t.Port > 65535 {
		return iptablesUndo{}, fmt.Errorf("iptables: port %d: want 1 to 65535", t.Port)
	}
	action := t.Action
	if action == "" {
		action = "drop"
	}
	if action != "drop" && action != "reject" {
		return iptablesUndo{}, fmt.Errorf("iptables: action %q: want drop or reject", t.Action)
	}
	if err := checkComment(t.Comment); err != nil {
		return iptablesUndo{}, err
	}
	u := iptablesUndo{Port: t.Port, Netns: t.Netns, Action: action, Comment: t.Comment}
	if t.Netns != "" {
		if t.Netns == "." || t.Netns == ".." || strings.ContainsAny(t.Netns, "/\x00") {
			return iptablesUndo{}, fmt.Errorf("iptables: netns %q is not a network namespace name", t.Netns)
		}
		_, err := os.Stat(filepath.Join(netnsDir, t.Netns))
		if errors.Is(err, fs.ErrNotExist) {
			return iptablesUndo{}, fmt.Errorf("iptables: netns %q does not exist (ip netns list shows the named ones)", t.Netns)
		}
		if err != nil {
			return iptablesUndo{}, fmt.Errorf("iptables: netns %q: %w", t.Netns, err)
		}
	}
	bin, err := exec.LookPath("iptables")
	if err != nil {
		return iptablesUndo{}, errors.New("iptables: not found in PATH (apt-get install iptables)")
	}
	u.Tables = []string{bin}
	if bin6, err := exec.LookPath("ip6tables"); err == nil && ipv6() {
		u.Tables = append(u.Tables, bin6)
	}
	if t.Netns != "" {
		if u.IP, err = exec.LookPath("ip"); err != nil {
			return iptablesUndo{}, errors.New("iptables: ip: not found in PATH, needed for netns (apt-get install iproute2)")
		}
	}
	if err := checkCaps(t.Netns != ""); err != nil {
		return iptablesUndo{}, err
	}
	return u, nil
}

// checkComment refuses comments that would make the rule impossible to
// find again: empty (two experiments would share it), too long (iptables
// truncates it, so -C and -D never match) or with control characters.
func checkComment(c string) error {
	switch {
	case c == "":
		return errors.New("iptables: the rule needs a comment, so that experiments never remove each other's rules")
	case len(c) > maxCommentBytes:
		return fmt.Errorf("iptables: comment %.20q...: %d bytes, want at most %d", c, len(c), maxCommentBytes)
	case strings.IndexFunc(c, unicode.IsControl) >= 0:
		return fmt.Errorf("iptables: comment %q has control characters", c)
	}
	return nil
}

// ipv6 reports whether the kernel has IPv6 (not booted with ipv6.disable=1).
func ipv6() bool {
	_, err := os.Stat("/proc/net/if_inet6")
	return err == nil
}

// checkCaps fails early, before anything is journalled, when this process
// may not change iptables (CAP_NET_ADMIN) or enter a netns (CAP_SYS_ADMIN).
// Without /proc it lets iptables tell.
func checkCaps(netns bool) error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	caps, ok := effectiveCaps(status)
	if !ok {
		return nil
	}
	if caps&(1<<capNetAdmin) == 0 {
		return errors.New("iptables: not root: iptables needs CAP_NET_ADMIN")
	}
	if netns && caps&(1<<capSysAdmin) == 0 {
		return errors.New("iptables: not root: ip netns exec needs CAP_SYS_ADMIN")
	}
	return nil
}

// effectiveCaps reads the CapEff line of /proc/PID/status.
func effectiveCaps(status []byte) (uint64, bool) {
	for line := range bytes.Lines(status) {
		hex, ok := bytes.CutPrefix(line, []byte("CapEff:"))
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(string(bytes.TrimSpace(hex)), 16, 64)
		return caps, err == nil
	}
	return 0, false
}

func (u iptablesUndo) String() string {
	where := "the current netns"
	if u.Netns != "" {
		where = "netns " + u.Netns
	}
	return fmt.Sprintf("iptables %s of tcp port %d in %s (comment %q)", u.Action, u.Port, where, u.Comment)
}

// restore deletes the rule until -C no longer finds it: an experiment run
// twice may have inserted it twice.
func (u iptablesUndo) restore(ctx context.Context) error {
	const maxDeletes = 64
	for _, bin := range u.Tables {
		for i := 0; ; i++ {
			on, err := u.present(ctx, bin)
			if err != nil {
				return fmt.Errorf("restoring %s: %w", u, err)
			}
			if !on {
				break
			}
			if i == maxDeletes {
				return fmt.Errorf("restoring %s: the rule is still there after %d deletes", u, maxDeletes)
			}
			err = u.iptables(ctx, bin, "-D")
			if err != nil && !errors.Is(err, errNoRule) && !errors.Is(err, errNoNetns) {
				return fmt.Errorf("restoring %s: %w", u, err)
			}
		}
	}
	return nil
}

func (u iptablesUndo) active(ctx context.Context) (bool, error) {
	for _, bin := range u.Tables {
		on, err := u.present(ctx, bin)
		if err != nil {
			return false, fmt.Errorf("checking %s: %w", u, err)
		}
		if on {
			return true, nil
		}
	}
	return false, nil
}

// present runs iptables -C. A netns that is gone took the rule with it.
func (u iptablesUndo) present(ctx context.Context, bin string) (bool, error) {
	err := u.iptables(ctx, bin, "-C")
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errNoRule), errors.Is(err, errNoNetns):
		return false, nil
	}
	return false, err
}

var (
	errNoRule  = errors.New("no such rule")
	errNoNetns = errors.New("no such netns")
)

// iptables runs bin with op (-I, -C or -D) and the rule's spec, inside the
// netns if it has one. Its error carries iptables' output and a hint, and
// wraps errNoRule or errNoNetns when that is what iptables or ip said.
func (u iptablesUndo) iptables(ctx context.Context, bin, op string) error {
	spec := []string{"-w", op, "INPUT", "-p", "tcp", "--dport", strconv.Itoa(u.Port),
		"-m", "comment", "--comment", u.Comment}
	if u.Action == "reject" {
		spec = append(spec, "-j", "REJECT", "--reject-with", "tcp-reset")
	} else {
		spec = append(spec, "-j", "DROP")
	}
	argv := append([]string{bin}, spec...)
	shown := append([]string{filepath.Base(bin)}, spec...) // for errors
	if u.Netns != "" {
		if _, err := os.Stat(filepath.Join(netnsDir, u.Netns)); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("netns %q: %w", u.Netns, errNoNetns)
		}
		argv = append([]string{u.IP, "netns", "exec", u.Netns}, argv...)
		shown = append([]string{"ip", "netns", "exec", u.Netns}, shown...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrNotExist) { // uninstalled since Prepare
		return fmt.Errorf("%s: %w (apt-get install iptables iproute2)", commandLine(shown), err)
	}
	msg := strings.TrimSpace(stderr.String())
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.ExitCode() == 1 &&
		(strings.Contains(msg, "does a matching rule exist") || strings.Contains(msg, "No chain/target/match by that name")):
		err = errNoRule // -C and -D on a rule that is not there
	case strings.Contains(msg, "Cannot open network namespace"):
		err = errNoNetns // deleted between the Stat and ip
	}
	if msg == "" {
		return fmt.Errorf("%s: %w", commandLine(shown), err)
	}
	if hint := iptablesHint(msg); hint != "" {
		return fmt.Errorf("%s: %w: %s (%s)", commandLine(shown), err, msg, hint)
	}
	return fmt.Errorf("%s: %w: %s", commandLine(shown), err, msg)
}

// iptablesHint says what to do about the errors people meet most.
func iptablesHint(msg string) string {
	switch {
	case strings.Contains(msg, "setting the network namespace"):
		return "not root: ip netns exec needs CAP_SYS_ADMIN"
	case strings.Contains(msg, "you must be root"), strings.Contains(msg, "Permission denied"),
		strings.Contains(msg, "Operation not permitted"):
		return "not root: iptables needs CAP_NET_ADMIN"
	case strings.Contains(msg, "match `comment'"), strings.Contains(msg, "target `REJECT'"):
		return "the kernel lacks an xtables module: modprobe xt_comment ipt_REJECT ip6t_REJECT"
	}
	return ""
}

// commandLine shows argv as a shell would take it.
func commandLine(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$`") {
			a = strconv.Quote(a)
		}
		words[i] = a
	}
	return strings.Join(words, " ")
}
