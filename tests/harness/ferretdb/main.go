// Command ferretdb-harness runs an embedded FerretDB v1 (SQLite backend) for the test suite.
//
// It is built and started by tests/harness/mongo.py; it is not part of the product.
//
//   - It listens on the TCP address given by -listen-addr and keeps its SQLite files in -data-dir.
//   - It prints one "ready: ..." line on stdout once clients can connect.
//   - It shuts down cleanly on SIGTERM or SIGINT.
//
// FerretDB v1 runs every write as "query, then write back by _id" without a lock, so concurrent
// updates of one document lose writes (even $inc) and a compare-and-swap on a version field can
// succeed twice. Real MongoDB makes every single-document write atomic. To get that guarantee in
// tests, FerretDB listens on a private Unix socket here, and the TCP listener is a small
// wire-protocol proxy that sends one command at a time to FerretDB (-serialize=false turns
// this off, for comparison).
//
// The proxy also fixes one error code: FerretDB reports a unique index violated by an update,
// a findAndModify or a createIndexes as code 1 (InternalError, "UNIQUE constraint failed"),
// where MongoDB reports code 11000 (DuplicateKey), which drivers raise as DuplicateKeyError.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/bson"
)

const (
	ferretModule = "github.com/FerretDB/FerretDB"

	// Wire protocol constants.
	headerLen      = 16
	maxMessageLen  = 48_000_000 + headerLen
	opMsg          = 2013
	flagChecksum   = 1 << 0
	flagMoreToCome = 1 << 1

	// codes in error replies
	codeInternalError = 1
	codeDuplicateKey  = 11000
)

// sqliteUnique is how FerretDB's SQLite backend words a unique index violation.
var sqliteUnique = []byte("UNIQUE constraint failed")

// moduleVersion returns the FerretDB module version this binary was built with.
func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == ferretModule {
				if dep.Replace != nil {
					return dep.Replace.Version
				}
				return dep.Version
			}
		}
	}
	return "unknown"
}

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "", "directory for the SQLite backend files (created if missing)")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn, error")
	serialize := flag.Bool("serialize", true, "run one command at a time (atomic single-document writes)")
	unixSocket := flag.String("unix-socket", "",
		"private Unix socket between the proxy and FerretDB (default: in a new temporary directory)")
	showVersion := flag.Bool("version", false, "print the FerretDB version and exit")
	flag.Parse()

	if *showVersion {
		fmt.Println(moduleVersion())
		return
	}

	if err := run(*listenAddr, *dataDir, *logLevel, *unixSocket, *serialize); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-harness: %v\n", err)
		os.Exit(1)
	}
}

func run(listenAddr, dataDir, logLevel, unixSocket string, serialize bool) error {
	if dataDir == "" {
		return errors.New("-data-dir is required")
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("bad -log-level: %w", err)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if err = os.MkdirAll(abs, 0o755); err != nil {
		return err
	}

	// FerretDB requires a "file:" URI of an existing directory, ending with a slash.
	sqliteURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs) + "/"}).String()

	cfg := &ferretdb.Config{
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	}

	var ln net.Listener
	if serialize {
		if unixSocket == "" {
			// Unix socket paths are limited to ~108 bytes: keep it short.
			sockDir, tmpErr := os.MkdirTemp("", "ferretdb-harness-")
			if tmpErr != nil {
				return tmpErr
			}
			defer os.RemoveAll(sockDir)
			unixSocket = filepath.Join(sockDir, "ferretdb.sock")
		} else {
			// left behind by a killed process
			if err = os.Remove(unixSocket); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			defer os.Remove(unixSocket)
		}
		cfg.Listener.Unix = unixSocket

		if ln, err = net.Listen("tcp", listenAddr); err != nil {
			return err
		}
		defer ln.Close()
	} else {
		cfg.Listener.TCP = listenAddr
	}

	// New binds the listeners.
	f, err := ferretdb.New(cfg)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	var p *proxy
	if serialize {
		p = &proxy{backend: cfg.Listener.Unix, logger: logger, conns: map[net.Conn]struct{}{}}
		go p.serve(ln)
	}

	fmt.Printf("ready: FerretDB %s (SQLite backend) at %s, data in %s, serialized=%t\n",
		moduleVersion(), listenAddr, abs, serialize)

	select {
	case err = <-done: // FerretDB stopped on its own
	case <-ctx.Done():
		// close client connections first: FerretDB waits for its connections to end
		if p != nil {
			_ = ln.Close()
			p.closeAll()
		}
		err = <-done
	}
	logger.Info("ferretdb-harness stopped")
	return err
}

// proxy forwards MongoDB wire messages from TCP clients to FerretDB, one command at a time.
type proxy struct {
	backend string
	logger  *slog.Logger

	cmd sync.Mutex // held while one command is in FerretDB

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (p *proxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.logger.Error("accept failed", "err", err)
			}
			return
		}
		go p.handle(c)
	}
}

func (p *proxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns[c] = struct{}{}
	p.mu.Unlock()
}

func (p *proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *proxy) handle(client net.Conn) {
	p.track(client)
	defer p.untrack(client)

	backend, err := net.DialTimeout("unix", p.backend, 5*time.Second)
	if err != nil {
		p.logger.Error("cannot reach FerretDB", "err", err)
		return
	}
	p.track(backend)
	defer p.untrack(backend)

	for {
		req, err := readMessage(client)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				p.logger.Debug("client read failed", "err", err)
			}
			return
		}

		reply, err := p.roundTrip(backend, req)
		if err != nil {
			p.logger.Warn("FerretDB round trip failed", "err", err)
			return
		}

		// FerretDB answers every request, even with moreToCome set (w=0 writes); such a client
		// does not read a reply, so drop it.
		if moreToCome(req) {
			continue
		}

		if bytes.Contains(reply, sqliteUnique) {
			reply = fixDuplicateKeyErrors(reply, p.logger)
		}

		if _, err = client.Write(reply); err != nil {
			return
		}
	}
}

func (p *proxy) roundTrip(backend net.Conn, req []byte) ([]byte, error) {
	p.cmd.Lock()
	defer p.cmd.Unlock()

	if _, err := backend.Write(req); err != nil {
		return nil, err
	}
	return readMessage(backend)
}

// readMessage reads one length-prefixed wire protocol message (header included).
func readMessage(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.LittleEndian.Uint32(hdr[:])))
	if n < headerLen || n > maxMessageLen {
		return nil, fmt.Errorf("bad message length %d", n)
	}
	msg := make([]byte, n)
	copy(msg, hdr[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}

func moreToCome(msg []byte) bool {
	if len(msg) < headerLen+4 || binary.LittleEndian.Uint32(msg[12:16]) != opMsg {
		return false
	}
	return binary.LittleEndian.Uint32(msg[headerLen:headerLen+4])&flagMoreToCome != 0
}

// fixDuplicateKeyErrors turns FerretDB's InternalError replies for unique index violations
// into MongoDB's DuplicateKey (11000) ones, at the top level and in writeErrors.
// A reply it cannot parse is returned unchanged.
func fixDuplicateKeyErrors(msg []byte, logger *slog.Logger) []byte {
	// header, flagBits, one kind-0 section with the body document, no checksum
	if len(msg) < headerLen+5 || binary.LittleEndian.Uint32(msg[12:16]) != opMsg {
		return msg
	}
	flags := binary.LittleEndian.Uint32(msg[headerLen : headerLen+4])
	if flags&flagChecksum != 0 || msg[headerLen+4] != 0 {
		return msg
	}
	bodyStart := headerLen + 5
	if len(msg) < bodyStart+4 {
		return msg
	}
	bodyLen := int(int32(binary.LittleEndian.Uint32(msg[bodyStart : bodyStart+4])))
	if bodyLen < 5 || bodyStart+bodyLen != len(msg) {
		return msg // more sections: not a reply shape FerretDB sends
	}

	var doc bson.D
	if err := bson.Unmarshal(msg[bodyStart:], &doc); err != nil {
		logger.Warn("cannot parse reply", "err", err)
		return msg
	}

	changed := fixError(doc)
	for _, e := range doc {
		if e.Key != "writeErrors" {
			continue
		}
		if arr, ok := e.Value.(bson.A); ok {
			for _, we := range arr {
				if wd, ok := we.(bson.D); ok && fixError(wd) {
					changed = true
				}
			}
		}
	}
	if !changed {
		return msg
	}

	body, err := bson.Marshal(doc)
	if err != nil {
		logger.Warn("cannot re-encode reply", "err", err)
		return msg
	}
	out := make([]byte, 0, bodyStart+len(body))
	out = append(out, msg[:bodyStart]...)
	out = append(out, body...)
	binary.LittleEndian.PutUint32(out[0:4], uint32(len(out)))
	return out
}

// fixError rewrites one error document in place; it reports whether it did.
func fixError(d bson.D) bool {
	codeAt, msgAt, nameAt := -1, -1, -1
	for i, e := range d {
		switch e.Key {
		case "code":
			codeAt = i
		case "errmsg":
			msgAt = i
		case "codeName":
			nameAt = i
		}
	}
	if codeAt < 0 || msgAt < 0 {
		return false
	}
	errmsg, ok := d[msgAt].Value.(string)
	if !ok || !bytes.Contains([]byte(errmsg), sqliteUnique) {
		return false
	}
	switch c := d[codeAt].Value.(type) {
	case int32:
		if c != codeInternalError {
			return false
		}
	case int64:
		if c != codeInternalError {
			return false
		}
	case float64:
		if c != codeInternalError {
			return false
		}
	default:
		return false
	}

	detail := errmsg
	if i := bytes.Index([]byte(errmsg), sqliteUnique); i >= 0 {
		detail = errmsg[i:]
	}
	d[codeAt].Value = int32(codeDuplicateKey)
	d[msgAt].Value = "E11000 duplicate key error (ferretdb-harness: " + detail + ")"
	if nameAt >= 0 {
		d[nameAt].Value = "DuplicateKey"
	}
	return true
}
