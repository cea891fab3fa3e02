package deps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// shaRe is what looks like a commit id (an abbreviated one too), which a shallow clone
// of a branch or tag cannot reach.
var shaRe = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// checkoutGit clones a repository into dir at a revision (a tag, a branch, a commit;
// "" for the default branch's HEAD) and returns the commit it is at. Tags are tried
// before branches, as dbt does. A repository given as a relative path is relative to
// from (the project's folder).
func checkoutGit(ctx context.Context, repo, revision, dir, from string) (string, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return "", &FetchError{What: "git", Err: errors.New("the git command is not installed"), Hint: "install git: strata deps runs it for git packages"}
	}
	if revision != "" && !shaRe.MatchString(revision) {
		// a branch or tag: one commit's worth of history is enough
		if _, err := runGit(ctx, from, repo, "clone", "--quiet", "--depth", "1", "--branch", revision, "--", repo, dir); err == nil {
			return runGit(ctx, dir, repo, "rev-parse", "HEAD")
		}
		if err := os.RemoveAll(dir); err != nil {
			return "", err
		}
	}
	if _, err := runGit(ctx, from, repo, "clone", "--quiet", "--no-checkout", "--", repo, dir); err != nil {
		return "", err
	}
	sha := ""
	if revision == "" {
		var err error
		if sha, err = runGit(ctx, dir, repo, "rev-parse", "--verify", "HEAD^{commit}"); err != nil {
			return "", err
		}
	} else {
		for _, ref := range []string{"refs/tags/" + revision, "refs/remotes/origin/" + revision, revision} {
			if s, err := runGit(ctx, dir, repo, "rev-parse", "--verify", "--quiet", ref+"^{commit}"); err == nil && s != "" {
				sha = s
				break
			}
		}
		if sha == "" {
			return "", &FetchError{What: "git checkout " + revision, Err: fmt.Errorf("%s has no branch, tag or commit %q", redactURL(repo), revision), Hint: "check revision: in packages.yml"}
		}
	}
	if _, err := runGit(ctx, dir, repo, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha); err != nil {
		return "", err
	}
	return sha, nil
}

// runGit runs one git command and returns its trimmed stdout; a failure carries the
// command and its stderr, with any credentials in the URL hidden.
func runGit(ctx context.Context, dir, repo string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		shown := make([]string, 0, len(args))
		afterRepo := false
		for _, a := range args {
			switch {
			case afterRepo:
				continue // the temporary folder says nothing to the user
			case a == repo:
				a, afterRepo = redactURL(repo), true
			case a == "--" || a == "-c" || a == "--quiet" || a == "--no-checkout" || strings.HasPrefix(a, "advice."):
				continue
			}
			shown = append(shown, a)
		}
		msg := strings.TrimSpace(redactText(stderr.String(), repo))
		if msg == "" {
			msg = err.Error()
		}
		return "", &FetchError{What: "git " + strings.Join(shown, " "), Err: errors.New(msg)}
	}
	return strings.TrimSpace(stdout.String()), nil
}

// redactURL hides the user and password of a URL (a token from env_var()).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User("***")
	return u.String()
}

func redactText(s, repo string) string {
	u, err := url.Parse(repo)
	if err != nil || u.User == nil {
		return s
	}
	s = strings.ReplaceAll(s, repo, redactURL(repo))
	return strings.ReplaceAll(s, u.User.String(), "***")
}
