package files

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// HTTPHandler serves the file center's JSON/REST API for the user auth identifies. Paths
// after the route prefix are paths in the user's tree:
//
//	GET    /api/v1/stat/{path}           FileInfo
//	GET    /api/v1/list/{path}           []FileInfo
//	POST   /api/v1/mkdir/{path}          FileInfo (201)
//	PUT    /api/v1/content/{path}        upload the body; FileInfo (201)
//	GET    /api/v1/content/{path}        download (Range, If-Range, If-None-Match honoured)
//	POST   /api/v1/move                  {"from","to","overwrite"}
//	POST   /api/v1/rename                {"path","name"}; FileInfo (same directory)
//	POST   /api/v1/copy                  {"from","to","overwrite"}
//	DELETE /api/v1/files/{path}          move to trash; TrashItem
//	GET    /api/v1/trash                 []TrashItem, newest first
//	POST   /api/v1/trash/{id}/restore    {"to": optional path}; FileInfo
//	DELETE /api/v1/trash/{id}            purge one item
//	DELETE /api/v1/trash                 empty the trash
//	GET    /api/v1/recent?limit=N        []FileInfo
//	GET    /api/v1/quota                 Usage
//	PUT    /api/v1/admin/quota/{user}    {"quota": bytes}; Usage (administrators, see WithAdmins)
//
// Errors are {"error": "..."} with 400 (bad path or request), 401, 403 (policy), 404, 409
// (exists, not a directory, is a directory), 507 (quota exceeded).
func (s *Service) HTTPHandler(auth Authenticator) http.Handler {
	mux := http.NewServeMux()
	type h func(w http.ResponseWriter, r *http.Request, user string) error
	handle := func(pattern string, fn h) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			user, ok := auth(r)
			if !ok {
				unauthorized(w)
				return
			}
			if err := fn(w, r, user); err != nil {
				s.writeError(w, r, err)
			}
		})
	}
	handle("GET /api/v1/stat/{path...}", func(w http.ResponseWriter, r *http.Request, user string) error {
		fi, err := s.Stat(r.Context(), user, "/"+r.PathValue("path"))
		return reply(w, http.StatusOK, fi, err)
	})
	handle("GET /api/v1/list/{path...}", func(w http.ResponseWriter, r *http.Request, user string) error {
		list, err := s.List(r.Context(), user, "/"+r.PathValue("path"))
		if list == nil {
			list = []FileInfo{}
		}
		return reply(w, http.StatusOK, list, err)
	})
	handle("POST /api/v1/mkdir/{path...}", func(w http.ResponseWriter, r *http.Request, user string) error {
		fi, err := s.Mkdir(r.Context(), user, "/"+r.PathValue("path"))
		return reply(w, http.StatusCreated, fi, err)
	})
	handle("PUT /api/v1/content/{path...}", func(w http.ResponseWriter, r *http.Request, user string) error {
		fi, err := s.Upload(r.Context(), user, "/"+r.PathValue("path"), r.Body, r.ContentLength)
		return reply(w, http.StatusCreated, fi, err)
	})
	download := func(w http.ResponseWriter, r *http.Request, user string) error {
		f, err := s.Open(r.Context(), user, "/"+r.PathValue("path"))
		if err != nil {
			return err
		}
		defer f.Close()
		fi := f.Info()
		w.Header().Set("ETag", fi.ETag)
		w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+pathEscape(fi.Name))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/octet-stream")
		}
		http.ServeContent(w, r, fi.Name, fi.ModTime, f)
		return nil
	}
	handle("GET /api/v1/content/{path...}", download)
	handle("HEAD /api/v1/content/{path...}", download)
	type transfer struct {
		From      string `json:"from"`
		To        string `json:"to"`
		Overwrite bool   `json:"overwrite"`
	}
	handle("POST /api/v1/move", func(w http.ResponseWriter, r *http.Request, user string) error {
		var t transfer
		if err := decode(r, &t); err != nil {
			return err
		}
		err := s.Move(r.Context(), user, t.From, t.To, t.Overwrite)
		if err != nil {
			return err
		}
		fi, err := s.Stat(r.Context(), user, t.To)
		return reply(w, http.StatusOK, fi, err)
	})
	handle("POST /api/v1/rename", func(w http.ResponseWriter, r *http.Request, user string) error {
		var body struct {
			Path string `json:"path"`
			Name string `json:"name"`
		}
		if err := decode(r, &body); err != nil {
			return err
		}
		fi, err := s.Rename(r.Context(), user, body.Path, body.Name)
		return reply(w, http.StatusOK, fi, err)
	})
	handle("POST /api/v1/copy", func(w http.ResponseWriter, r *http.Request, user string) error {
		var t transfer
		if err := decode(r, &t); err != nil {
			return err
		}
		if err := s.Copy(r.Context(), user, t.From, t.To, t.Overwrite); err != nil {
			return err
		}
		fi, err := s.Stat(r.Context(), user, t.To)
		return reply(w, http.StatusCreated, fi, err)
	})
	handle("DELETE /api/v1/files/{path...}", func(w http.ResponseWriter, r *http.Request, user string) error {
		item, err := s.Delete(r.Context(), user, "/"+r.PathValue("path"))
		return reply(w, http.StatusOK, item, err)
	})
	handle("GET /api/v1/trash", func(w http.ResponseWriter, r *http.Request, user string) error {
		items, err := s.Trash(r.Context(), user)
		if items == nil {
			items = []TrashItem{}
		}
		return reply(w, http.StatusOK, items, err)
	})
	handle("POST /api/v1/trash/{id}/restore", func(w http.ResponseWriter, r *http.Request, user string) error {
		id, err := trashID(r)
		if err != nil {
			return err
		}
		var body struct {
			To string `json:"to"`
		}
		if r.ContentLength != 0 {
			if err := decode(r, &body); err != nil {
				return err
			}
		}
		fi, err := s.Restore(r.Context(), user, id, body.To)
		return reply(w, http.StatusOK, fi, err)
	})
	handle("DELETE /api/v1/trash/{id}", func(w http.ResponseWriter, r *http.Request, user string) error {
		id, err := trashID(r)
		if err != nil {
			return err
		}
		return reply(w, http.StatusNoContent, nil, s.PurgeTrash(r.Context(), user, id))
	})
	handle("DELETE /api/v1/trash", func(w http.ResponseWriter, r *http.Request, user string) error {
		return reply(w, http.StatusNoContent, nil, s.EmptyTrash(r.Context(), user))
	})
	handle("GET /api/v1/recent", func(w http.ResponseWriter, r *http.Request, user string) error {
		limit := 20
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 1000 {
				return fmt.Errorf("%w: limit must be 1..1000", errBadRequest)
			}
			limit = n
		}
		list, err := s.Recent(r.Context(), user, limit)
		if list == nil {
			list = []FileInfo{}
		}
		return reply(w, http.StatusOK, list, err)
	})
	handle("GET /api/v1/quota", func(w http.ResponseWriter, r *http.Request, user string) error {
		us, err := s.Usage(r.Context(), user)
		return reply(w, http.StatusOK, us, err)
	})
	handle("PUT /api/v1/admin/quota/{user}", func(w http.ResponseWriter, r *http.Request, user string) error {
		if s.isAdmin == nil || !s.isAdmin(user) {
			return fmt.Errorf("%w: %s is not an administrator", ErrDenied, user)
		}
		var body struct {
			Quota int64 `json:"quota"`
		}
		if err := decode(r, &body); err != nil {
			return err
		}
		target := r.PathValue("user")
		if err := s.SetQuota(r.Context(), target, body.Quota); err != nil {
			return err
		}
		s.log.Info("quota changed", "admin", user, "user", target, "quota", body.Quota)
		us, err := s.Usage(r.Context(), target)
		return reply(w, http.StatusOK, us, err)
	})
	return mux
}

var errBadRequest = errors.New("files: bad request")

func trashID(r *http.Request) (uint64, error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: trash id %q", errBadRequest, r.PathValue("id"))
	}
	return id, nil
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return nil
}

func reply(w http.ResponseWriter, status int, v any, err error) error {
	if err != nil {
		return err
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// httpStatus maps the service's errors to HTTP status codes.
func httpStatus(err error) int {
	switch {
	case errors.Is(err, ErrQuotaExceeded), errors.Is(err, ErrNoSpace):
		return http.StatusInsufficientStorage
	case errors.Is(err, ErrDenied):
		return http.StatusForbidden
	case errors.Is(err, ErrInvalidPath), errors.Is(err, ErrInvalid), errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrExist), errors.Is(err, ErrNotDir), errors.Is(err, ErrIsDir):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := httpStatus(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		s.log.Error("file center request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func pathEscape(name string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

// Handler serves both APIs on one listener: the REST API under /api/v1/ and WebDAV on
// every other path (so "/api" is not available as a WebDAV name at the root).
func (s *Service) Handler(auth Authenticator) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", s.HTTPHandler(auth))
	mux.Handle("/", s.WebDAVHandler("", auth))
	return mux
}
