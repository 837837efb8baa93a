package storage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

const holdLockEnv = "DIALDECK_STORAGE_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	// Re-exec'd by TestOpenLockedByOtherProcess: hold the file until stdin closes.
	if path := os.Getenv(holdLockEnv); path != "" {
		s, err := Open(path, Options{})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = s.Close()
		os.Exit(0)
	}
	code := m.Run()
	cleanupBenchFixtures()
	os.Exit(code)
}

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "dialdeck.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func update(t testing.TB, s *Store, fn func(engine.Tx) error) {
	t.Helper()
	if err := s.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func view(t testing.TB, s *Store, fn func(engine.Tx) error) {
	t.Helper()
	if err := s.View(fn); err != nil {
		t.Fatal(err)
	}
}

func newCampaign(t testing.TB, s *Store, name string) uint64 {
	t.Helper()
	c := &engine.Campaign{CampaignSpec: engine.CampaignSpec{Name: name}, State: engine.StateDraft,
		Columns: []string{"phone", "first_name"}}
	update(t, s, func(tx engine.Tx) error { return tx.PutCampaign(c) })
	return c.ID
}

func TestOpenCreatesBucketsAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != path {
		t.Fatalf("Path() = %q", s.Path())
	}
	if st := s.Stats(); st.FileSize == 0 {
		t.Fatalf("Stats() = %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(btx *bolt.Tx) error {
		for _, name := range []string{"meta", "campaigns", "dnc", "outbox"} {
			if btx.Bucket([]byte(name)) == nil {
				return fmt.Errorf("bucket %s missing", name)
			}
		}
		if v, _ := parseU64(btx.Bucket(bktMeta).Get(keySchema)); v != SchemaVersion {
			return fmt.Errorf("schema %d", v)
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Reopening an existing file works; a newer schema is refused.
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	rawUpdate(t, path, func(btx *bolt.Tx) error { return btx.Bucket(bktMeta).Put(keySchema, u64(99)) })
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("newer schema: %v", err)
	}
}

func TestOpenRefusesForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Update(func(btx *bolt.Tx) error { _, err := btx.CreateBucket([]byte("x")); return err })
	db.Close()
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "not a dialdeck database") {
		t.Fatalf("foreign file: %v", err)
	}
}

func checkLocked(t *testing.T, path string, err error, elapsed time.Duration) {
	t.Helper()
	if err == nil {
		t.Fatal("second Open succeeded")
	}
	want := "database " + path + " is in use by another dialdeck process"
	if err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	if !errors.Is(err, ErrLocked) || !errors.Is(err, berrors.ErrTimeout) {
		t.Fatalf("error %v does not match ErrLocked and bbolt ErrTimeout", err)
	}
	if elapsed > 2500*time.Millisecond {
		t.Fatalf("second Open took %v", elapsed)
	}
}

func TestOpenLockedByOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdLockEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close() // the holder exits when its stdin closes
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("holder said %q (%v)", line, err)
	}
	start := time.Now()
	_, err = Open(path, Options{})
	checkLocked(t, path, err, time.Since(start))
}

// Within one process, flock(2) locks belong to the open file description, so
// a second bolt.Open of the same file conflicts here too (Linux).
func TestOpenLockedSameProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = Open(path, Options{LockTimeout: 300 * time.Millisecond})
	if err == nil {
		t.Fatal("second Open in the same process succeeded")
	}
	if !errors.Is(err, ErrLocked) || time.Since(start) > 2*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
}

func TestReadOnlyOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ro.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cid := newCampaign(t, s, "ro")
	s.Close()
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	view(t, ro, func(tx engine.Tx) error {
		_, err := tx.Campaign(cid)
		return err
	})
}

// rawUpdate edits the closed file with bbolt directly, as corruption tests do.
func rawUpdate(t testing.TB, path string, fn func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}
