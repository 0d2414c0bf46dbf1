// Package mysqltest gives tests a fresh, empty MySQL or MariaDB database
// of their own on the server named by the GUARANTOR_TEST_MYSQL
// environment variable, and skips them, saying why, without one.
package mysqltest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// Env names the environment variable holding the DSN of a server account
// that may create and drop databases, in go-sql-driver form, e.g.
// root@tcp(127.0.0.1:3306)/test. .ci/run sets it.
const Env = "GUARANTOR_TEST_MYSQL"

// DSN creates an empty database with a random name, drops it when the
// test ends, and returns a DSN for it. Without Env it skips the test.
func DSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(Env)
	if admin == "" {
		t.Skip(Env + " not set: no MySQL/MariaDB server to test against (e.g. " + Env + "='root@tcp(127.0.0.1:3306)/test')")
	}
	cfg, err := mysql.ParseDSN(admin)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("open %s: %v", Env, err)
	}
	defer db.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "guarantor_test_" + hex.EncodeToString(b[:])
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database on %s: %v", cfg.Addr, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

// Admin returns Env's DSN, or "" when it is not set.
func Admin() string { return os.Getenv(Env) }
