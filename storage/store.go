package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout version this package reads and writes.
const SchemaVersion = 1

// DefaultLockTimeout is how long Open waits for another process's file lock.
const DefaultLockTimeout = 2 * time.Second

// ErrLocked is returned (wrapped) by Open when another process holds the
// database file. The error also matches bbolt's ErrTimeout.
var ErrLocked = errors.New("database is in use by another dialdeck process")

// Options tune Open. The zero value is the production configuration.
type Options struct {
	// LockTimeout bounds the wait for the file lock (DefaultLockTimeout when 0).
	LockTimeout time.Duration
	// ReadOnly opens the file with a shared lock and creates nothing.
	ReadOnly bool
	// NoSync skips fsync on commit. Only for scratch files that are thrown
	// away after use (the dry run of `dialdeck simulate`): a crash loses data.
	NoSync bool
	// InitialMmapSize overrides the 1 GiB initial mapping (bytes; 0 = default).
	InitialMmapSize int
}

// Store is an engine.Store backed by one bbolt file.
type Store struct {
	db   *bolt.DB
	path string
}

var _ engine.Store = (*Store)(nil)

// Bucket and key names.
var (
	bktMeta      = []byte("meta")
	bktCampaigns = []byte("campaigns")
	bktDNC       = []byte("dnc")
	bktOutbox    = []byte("outbox")

	keySchema = []byte("schema")

	keyCampMeta = []byte("meta")
	bktLeads    = []byte("leads")
	bktDue      = []byte("due")
	bktInflight = []byte("inflight")
	bktCounters = []byte("counters")
	bktAttempts = []byte("attempts")
	bktPhones   = []byte("phones")
)

var campaignSubBuckets = [][]byte{bktLeads, bktDue, bktInflight, bktCounters, bktAttempts, bktPhones}

// lockedError carries the exact message the UI shows and matches both
// ErrLocked and bbolt's ErrTimeout.
type lockedError struct {
	path  string
	cause error
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("database %s is in use by another dialdeck process", e.path)
}
func (e *lockedError) Is(target error) bool { return target == ErrLocked }
func (e *lockedError) Unwrap() error        { return e.cause }

// Open opens (creating if needed) the database at path. It never waits for
// the file lock longer than opts.LockTimeout.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	mmap := opts.InitialMmapSize
	if mmap <= 0 {
		mmap = 1 << 30
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         timeout,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: mmap,
		ReadOnly:        opts.ReadOnly,
		NoSync:          opts.NoSync,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, &lockedError{path: path, cause: err}
		}
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(opts.ReadOnly); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return s, nil
}

// init creates the top-level buckets and checks the schema version.
func (s *Store) init(readOnly bool) error {
	check := func(btx *bolt.Tx) (bool, error) {
		mb := btx.Bucket(bktMeta)
		if mb == nil {
			return false, nil
		}
		v := mb.Get(keySchema)
		if v == nil {
			return false, nil
		}
		if len(v) != 8 {
			return false, fmt.Errorf("corrupt schema version (%d bytes)", len(v))
		}
		if ver := binary.BigEndian.Uint64(v); ver != SchemaVersion {
			return false, fmt.Errorf("schema version %d, this dialdeck reads version %d", ver, SchemaVersion)
		}
		return true, nil
	}
	if readOnly {
		return s.db.View(func(btx *bolt.Tx) error {
			ok, err := check(btx)
			if err == nil && !ok {
				err = errors.New("not a dialdeck database (no schema version)")
			}
			return err
		})
	}
	return s.db.Update(func(btx *bolt.Tx) error {
		ok, err := check(btx)
		if err != nil {
			return err
		}
		if !ok {
			// A file with buckets but no version is not ours: refuse to adopt it.
			empty := true
			_ = btx.ForEach(func(name []byte, _ *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return errors.New("not a dialdeck database (no schema version)")
			}
		}
		for _, name := range [][]byte{bktMeta, bktCampaigns, bktDNC, bktOutbox} {
			if _, err := btx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		if !ok {
			return btx.Bucket(bktMeta).Put(keySchema, u64(SchemaVersion))
		}
		return nil
	})
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Close releases the file and its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close database %s: %w", s.path, err)
	}
	return nil
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(engine.Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error { return fn(&tx{btx: btx}) })
}

// Update runs fn in a read-write transaction, committed (and fsync'd) when fn
// returns nil and rolled back otherwise.
func (s *Store) Update(fn func(engine.Tx) error) error {
	return s.db.Update(func(btx *bolt.Tx) error { return fn(&tx{btx: btx}) })
}

// Stats is a cheap snapshot of the file and its transactions.
type Stats struct {
	FileSize     int64 // bytes on disk
	FreePages    int   // pages on the freelist
	PendingPages int   // pages freed but still visible to open readers
	OpenReadTx   int
	ReadTxTotal  int
}

// Stats reports the file size and bbolt's counters.
func (s *Store) Stats() Stats {
	st := s.db.Stats()
	out := Stats{FreePages: st.FreePageN, PendingPages: st.PendingPageN, OpenReadTx: st.OpenTxN, ReadTxTotal: st.TxN}
	if fi, err := os.Stat(s.path); err == nil {
		out.FileSize = fi.Size()
	}
	return out
}

// tx implements engine.Tx over one bbolt transaction.
type tx struct {
	btx *bolt.Tx
	// One-campaign cache: the engine works on one campaign at a time and the
	// nested lookups would otherwise repeat for every lead.
	cid uint64
	cb  *campaignBuckets
}

type campaignBuckets struct {
	root, leads, due, inflight, counters, attempts, phones *bolt.Bucket
}

func (t *tx) writable() bool { return t.btx.Writable() }

// buckets returns the campaign's buckets, or ErrNotFound.
func (t *tx) buckets(cid uint64) (*campaignBuckets, error) {
	if t.cb != nil && t.cid == cid {
		return t.cb, nil
	}
	cs := t.btx.Bucket(bktCampaigns)
	if cs == nil {
		return nil, errors.New("missing campaigns bucket")
	}
	root := cs.Bucket(u64(cid))
	if root == nil {
		return nil, fmt.Errorf("campaign %d: %w", cid, engine.ErrNotFound)
	}
	cb := &campaignBuckets{root: root}
	for _, p := range []struct {
		name []byte
		dst  **bolt.Bucket
	}{{bktLeads, &cb.leads}, {bktDue, &cb.due}, {bktInflight, &cb.inflight},
		{bktCounters, &cb.counters}, {bktAttempts, &cb.attempts}, {bktPhones, &cb.phones}} {
		*p.dst = root.Bucket(p.name)
		if *p.dst == nil {
			return nil, fmt.Errorf("campaign %d: missing bucket %s", cid, p.name)
		}
	}
	t.cid, t.cb = cid, cb
	return cb, nil
}

func (t *tx) forget() { t.cb = nil }

func (t *tx) topBucket(name []byte) (*bolt.Bucket, error) {
	b := t.btx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("missing bucket %s", name)
	}
	return b, nil
}

// iterate walks a cursor from start while fn returns true. In a writable tx fn
// may modify the bucket (e.g. PutLead while scanning due leads), which
// invalidates bbolt cursors, so the cursor is re-positioned after each call.
func (t *tx) iterate(b *bolt.Bucket, start []byte, fn func(k, v []byte) (bool, error)) error {
	c := b.Cursor()
	var k, v []byte
	if start == nil {
		k, v = c.First()
	} else {
		k, v = c.Seek(start)
	}
	w := t.writable()
	for k != nil {
		var last []byte
		if w {
			last = append([]byte(nil), k...)
		}
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
		if w {
			k, v = c.Seek(last)
			if k != nil && string(k) == string(last) {
				k, v = c.Next()
			}
		} else {
			k, v = c.Next()
		}
	}
	return nil
}

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}
