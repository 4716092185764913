package desired

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var checkKeyNames = []string{"type", "interval", "timeout", "retry_interval", "rise", "fall", "warmup",
	"connect_to", "via_vip", "method", "path", "host", "status", "body", "sni", "verify",
	"send", "expect", "command", "dynamic_weight", "on_failure", "initial_state"}

// check reads a real server's merged health_check keys (the service's,
// overridden by its own) into a Check with every default filled in. A
// service's own keys are read once by themselves too (needType false), so
// that their mistakes show even without real servers; the error list
// reports each mistake once.
func (d *decoder) check(n *yaml.Node, fs map[string]field, needType bool) *Check {
	c := &Check{
		Interval: DefaultInterval, Timeout: DefaultTimeout, Rise: DefaultRise, Fall: DefaultFall,
		Method: "GET", Path: "/", Status: []StatusRange{{200, 299}}, DynamicWeight: true,
		OnFailure: OnFailureQuiesce, InitialUp: true,
	}
	if f, ok := fs["type"]; ok {
		t, _ := d.oneOf(f, "health_check type", "tcp", "http", "https", "udp", "exec", "none")
		c.Type = CheckType(t)
	} else if needType {
		d.errs.add(d.src(n), "health_check: type missing (tcp, http, https, udp, exec or none)")
	}
	dur := func(key string, dst *time.Duration) {
		if g, ok := fs[key]; ok {
			if v, ok := d.duration(g, key); ok {
				*dst = v
			}
		}
	}
	dur("interval", &c.Interval)
	dur("timeout", &c.Timeout)
	c.RetryInterval, c.Warmup = c.Interval, c.Interval
	dur("retry_interval", &c.RetryInterval)
	dur("warmup", &c.Warmup)
	for _, k := range []struct {
		key string
		dst *int
	}{{"rise", &c.Rise}, {"fall", &c.Fall}} {
		if g, ok := fs[k.key]; ok {
			if v, ok := d.number(g, k.key, 1, 1000); ok {
				*k.dst = int(v)
			}
		}
	}
	if g, ok := fs["connect_to"]; ok {
		ct := d.mapping(g.value, "connect_to", "address", "port")
		if h, ok := ct["address"]; ok {
			c.ConnectAddr, _ = d.address(h, "connect_to address")
		}
		if h, ok := ct["port"]; ok {
			if v, ok := d.number(h, "connect_to port", 1, math.MaxUint16); ok {
				c.ConnectPort = uint16(v)
			}
		}
	}
	boolean := func(key string, dst *bool) {
		if g, ok := fs[key]; ok {
			if v, ok := d.boolean(g, key); ok {
				*dst = v
			}
		}
	}
	boolean("via_vip", &c.ViaVIP)
	boolean("verify", &c.Verify)
	boolean("dynamic_weight", &c.DynamicWeight)
	str := func(key string, dst *string) {
		if g, ok := fs[key]; ok {
			if v, ok := d.scalar(g, key, "!!str"); ok {
				*dst = v
			}
		}
	}
	str("method", &c.Method)
	str("path", &c.Path)
	str("host", &c.Host)
	str("sni", &c.SNI)
	if g, ok := fs["send"]; ok {
		if v, ok := d.scalar(g, "send", "!!str"); ok {
			c.Send = []byte(v)
		}
	}
	c.Body = d.regexp(fs, "body")
	c.Expect = d.regexp(fs, "expect")
	if g, ok := fs["status"]; ok {
		c.Status = d.statusRanges(g)
	}
	if g, ok := fs["command"]; ok {
		if g.value.Kind != yaml.SequenceNode || len(g.value.Content) == 0 {
			d.errs.add(d.src(g.value), "command: want a list of words (the program, then its arguments)")
		} else {
			for _, w := range g.value.Content {
				if v, ok := d.scalar(field{g.key, w}, "command", "!!str", "!!int"); ok {
					c.Command = append(c.Command, v)
				}
			}
		}
	}
	if g, ok := fs["on_failure"]; ok {
		c.OnFailure, _ = d.oneOf(g, "on_failure", OnFailureQuiesce, OnFailureRemove)
	}
	if g, ok := fs["initial_state"]; ok {
		if v, ok := d.oneOf(g, "initial_state", "up", "down"); ok {
			c.InitialUp = v == "up"
		}
	}
	if needType && c.Type == CheckExec && len(c.Command) == 0 {
		d.errs.add(d.src(n), "health_check: type exec needs a command")
	}
	if c.Timeout <= 0 || c.Interval <= 0 || c.RetryInterval <= 0 {
		d.errs.add(d.src(n), "health_check: interval, timeout and retry_interval must be longer than 0")
	}
	return c
}

// duration reads a Go duration ("1.5s", "2m") or whole seconds.
func (d *decoder) duration(f field, what string) (time.Duration, bool) {
	v, ok := d.scalar(f, what, "!!str", "!!int")
	if !ok {
		return 0, false
	}
	if f.value.ShortTag() == "!!int" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs < 0 || secs > math.MaxInt32 {
			d.errs.add(d.src(f.value), "%s: want a duration (5s, 1.5s, 2m) or whole seconds, got %s", what, v)
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	dur, err := time.ParseDuration(v)
	if err != nil || dur < 0 {
		d.errs.add(d.src(f.value), "%s: want a duration (5s, 1.5s, 2m) or whole seconds, got %q", what, v)
		return 0, false
	}
	return dur, true
}

func (d *decoder) regexp(fs map[string]field, key string) *regexp.Regexp {
	g, ok := fs[key]
	if !ok {
		return nil
	}
	v, ok := d.scalar(g, key, "!!str")
	if !ok {
		return nil
	}
	re, err := regexp.Compile(v)
	if err != nil {
		d.errs.add(d.src(g.value), "%s: %v", key, err)
		return nil
	}
	return re
}

// statusRanges reads a list of status codes and "MIN-MAX" ranges.
func (d *decoder) statusRanges(f field) []StatusRange {
	items := []*yaml.Node{f.value}
	if f.value.Kind == yaml.SequenceNode {
		items = f.value.Content
	}
	var out []StatusRange
	for _, it := range items {
		v, ok := d.scalar(field{f.key, it}, "status", "!!int", "!!str")
		if !ok {
			continue
		}
		lo, hi, isRange := strings.Cut(v, "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil || a < 100 || b > 599 || a > b {
			d.errs.add(d.src(it), "status: want a status code (100-599) or a range such as \"200-299\", got %q", v)
			continue
		}
		out = append(out, StatusRange{a, b})
	}
	return out
}
