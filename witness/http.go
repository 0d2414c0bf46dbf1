package witness

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// maxRequest bounds an add-checkpoint body: 63 proof lines and a
// checkpoint with a few signatures fit in far less.
const maxRequest = 64 << 10

// Handler serves the tlog-witness API: POST /add-checkpoint.
func (w *Witness) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /add-checkpoint", w.serveAddCheckpoint)
	return mux
}

func (w *Witness) serveAddCheckpoint(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxRequest))
	if err != nil {
		http.Error(rw, "request body too large or unreadable", http.StatusBadRequest)
		return
	}
	req, err := ParseRequest(body)
	var sigs []byte
	if err == nil {
		sigs, err = w.AddCheckpoint(r.Context(), req)
	}
	var we *Error
	switch {
	case err == nil:
		rw.Header().Set("Content-Type", "text/x.tlog.signature")
		rw.Write(sigs)
	case errors.As(err, &we) && we.StaleSize:
		rw.Header().Set("Content-Type", "text/x.tlog.size")
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", we.Size)
	case errors.As(err, &we):
		slog.Info("witness refused checkpoint", "status", we.Status, "reason", we.Message)
		http.Error(rw, we.Message, we.Status)
	default:
		slog.Error("witness failed", "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
	}
}
