package top

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/lvsadm/lvsadm/cmd/daemon"
)

// statusIndex is lvsadm run's /status document by service and real server.
type statusIndex struct {
	state map[string]string // "-t 192.0.2.1:80 -> 198.51.100.1:80": "up"
	sorry map[string]bool   // services whose sorry server is in
}

func (s *statusIndex) server(service, addr string) string {
	return s.state[service+" -> "+addr]
}

// fetchStatus reads url's /status document; nil if there is none (no
// lvsadm run listening is the usual case, and says nothing).
func fetchStatus(client *http.Client, url string) *statusIndex {
	resp, err := client.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	var doc daemon.StatusDoc
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.SchemaVersion != 1 {
		return nil
	}
	idx := &statusIndex{state: map[string]string{}, sorry: map[string]bool{}}
	for _, s := range doc.Services {
		for _, r := range s.RealServers {
			idx.state[s.Service+" -> "+r.Address] = r.State
		}
		if s.SorryServer {
			idx.sorry[s.Service] = true
		}
	}
	return idx
}

// statusFetcher returns the status reader for url ("" for none).
func statusFetcher(url string) func() *statusIndex {
	if url == "" {
		return nil
	}
	client := &http.Client{Timeout: 500 * time.Millisecond}
	return func() *statusIndex { return fetchStatus(client, url) }
}
