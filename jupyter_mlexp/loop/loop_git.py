"""The loop's git work: one commit per attempt, a ref and a patch for each, a reset that loses nothing.

Every attempt is committed on ``autoresearch/TAG``; before the branch goes back to the
best kept commit, the attempt's commit gets a ref of its own (``refs/mlexp/attempts/NNNN``)
and its diff is written as a patch. The reset touches only the paths the attempt changed:
untracked files and the experiment record (``experiments/``) are never touched, the
branch is never pushed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import git

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.record.fsio import atomic_write_text
from jupyter_mlexp.loop.loop_state import BRANCH_PREFIX


class LoopGitError(MlexpError):
    """The repository is not in a state the loop can work in (the message says why and how)."""


class Repo:
    """The git repository holding the code under study, with the record's folder kept out of attempts."""

    def __init__(self, path: str | os.PathLike, record_dir: Path):
        try:
            self.repo = git.Repo(path, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise LoopGitError(
                f"{path} is not inside a git repository: the loop commits every attempt (git init)"
            ) from None
        self.root = Path(self.repo.working_tree_dir or path).resolve()
        if not self.repo.head.is_valid():
            raise LoopGitError("the repository has no commits yet: commit the code to study first")
        try:
            rel = Path(record_dir).resolve().relative_to(self.root).as_posix()
        except ValueError:
            rel = ""
        #: pathspecs that keep the experiment record out of every attempt's commit and reset
        self.exclude = [f":(exclude){rel}"] if rel else []
        self.record_rel = rel

    def _git(self, *args: str, **kwargs) -> str:
        try:
            return self.repo.git.execute(["git", *args], **kwargs)
        except git.GitCommandError as err:
            detail = (err.stderr or err.stdout or "").strip().replace("\n", " ")
            raise LoopGitError(f"git {args[0]} failed: {detail[:300]}") from None

    # -- state checks -----------------------------------------------------------------------
    def head(self) -> str:
        return self.repo.head.commit.hexsha

    def branch(self) -> str | None:
        return None if self.repo.head.is_detached else self.repo.active_branch.name

    def check_clean_state(self) -> None:
        """Refuse on a detached HEAD or during a rebase, merge, cherry-pick or revert."""
        if self.repo.head.is_detached:
            raise LoopGitError("HEAD is detached: check out the loop's branch (git switch autoresearch/TAG)")
        gitdir = Path(self.repo.git_dir)
        for marker, what in (
            ("MERGE_HEAD", "a merge"),
            ("rebase-merge", "a rebase"),
            ("rebase-apply", "a rebase"),
            ("CHERRY_PICK_HEAD", "a cherry-pick"),
            ("REVERT_HEAD", "a revert"),
        ):
            if (gitdir / marker).exists():
                raise LoopGitError(f"the repository is in the middle of {what}: finish or abort it first")

    def loop_tag(self) -> str:
        """The tag of the loop whose branch is checked out; refuses on any other branch."""
        self.check_clean_state()
        name = self.branch() or ""
        if not name.startswith(BRANCH_PREFIX):
            raise LoopGitError(
                f"branch {name!r} is not a loop branch: the loop works only on {BRANCH_PREFIX}TAG "
                "(start one with `mlexp loop start TAG`, or git switch to it)"
            )
        return name[len(BRANCH_PREFIX) :]

    def start_branch(self, branch: str) -> str:
        """Create ``branch`` at the current commit and check it out (working-tree changes stay)."""
        self.check_clean_state()
        if branch in [h.name for h in self.repo.heads]:
            raise LoopGitError(f"branch {branch!r} already exists: pick another tag, or git switch to it")
        self._git("switch", "-q", "-c", branch)
        return self.head()

    # -- the attempt's change ---------------------------------------------------------------
    def _status(self, *extra: str) -> list[tuple[str, str]]:
        out = self._git("status", "--porcelain=v1", "-z", "--untracked-files=no", *extra)
        entries = [e for e in out.split("\0") if e]
        rows, skip = [], False
        for e in entries:
            if skip:  # the source of a rename
                skip = False
                continue
            rows.append((e[:2], e[3:]))
            skip = e[0] in "RC"
        return rows

    def changes(self) -> list[str]:
        """Tracked paths changed (staged or not) outside the record: what an attempt commits."""
        return [path for _, path in self._status("--", ".", *self.exclude)]

    def staged_in_record(self) -> list[str]:
        if not self.record_rel:
            return []
        return [path for code, path in self._status("--", self.record_rel) if code[0] not in " ?"]

    def _check_something_to_try(self) -> None:
        """Refuse staged record files (not part of an attempt) and a working tree with no change."""
        staged = self.staged_in_record()
        if staged:
            raise LoopGitError(
                f"unrelated staged changes in the experiment record ({', '.join(staged[:3])}): "
                "unstage them (git restore --staged PATH); the record is not part of an attempt"
            )
        if not self.changes():
            raise LoopGitError("nothing to try: the working tree has no change to the tracked files")

    def commit_attempt(self, message: str) -> str:
        """Commit every tracked change outside the record as one commit; its sha."""
        self._check_something_to_try()
        self._git("add", "-u", "--", ".", *self.exclude)
        self._git("commit", "-q", "--no-verify", "-m", message)
        return self.head()

    def keep_reachable(self, ref: str, sha: str, patch: Path) -> None:
        """A ref of its own for the attempt's commit and its diff as a patch file."""
        self._git("update-ref", ref, sha)
        atomic_write_text(patch, self._git("format-patch", "-1", "--stdout", sha, strip_newline_in_stdout=False))

    def lines(self, parent: str, sha: str) -> tuple[int, int]:
        """Lines added and removed by the commit (binary files count 0)."""
        added = removed = 0
        for line in self._git("diff", "--numstat", parent, sha).splitlines():
            a, r, _ = line.split("\t", 2)
            added += int(a) if a.isdigit() else 0
            removed += int(r) if r.isdigit() else 0
        return added, removed

    def restore(self, best: str, aside_ref: str = "") -> str:
        """Move the branch back to ``best``: only the paths the commits since then changed are put back
        (other uncommitted edits, untracked files and the record stay as they are).

        An uncommitted edit to one of those paths (made while the attempt ran) is not overwritten: it
        is stashed first (``git stash push`` of those paths, also kept under ``aside_ref``); the
        stash commit's sha is returned ("" when there was none).
        """
        if self.head() == best:
            return ""
        paths = [p for p in self._git("diff", "--name-only", "-z", best, "HEAD").split("\0") if p]
        kept = self.stash_paths(paths, "mlexp loop: edits made during an attempt", aside_ref)
        self._git("reset", "-q", "--soft", best)
        if paths:
            self._git("restore", f"--source={best}", "--staged", "--worktree", "--", *paths)
        return kept

    def stash_paths(self, paths: list[str], message: str, ref: str = "") -> str:
        """Stash the uncommitted edits to ``paths`` (staged or not); the stash commit, or ""."""
        edited = [p for _, p in self._status("--", *paths)] if paths else []
        if not edited:
            return ""
        self._git("stash", "push", "-q", "-m", message, "--", *edited)
        sha = self._git("rev-parse", "stash@{0}")
        if ref:
            self._git("update-ref", ref, sha)
        return sha

    def ignore_locally(self, paths: list[Path]) -> None:
        """Add ``paths`` (inside the work tree) to ``.git/info/exclude``: never committed by ``git add -A``."""
        exclude = self.common_dir / "info" / "exclude"
        have = exclude.read_text(encoding="utf-8").splitlines() if exclude.exists() else []
        rels = []
        for p in paths:
            try:
                rels.append("/" + Path(p).resolve().relative_to(self.root).as_posix())
            except ValueError:
                continue  # the record lies outside the repository: nothing to hide
        new = [r for r in rels if r not in have]
        if new:
            exclude.parent.mkdir(parents=True, exist_ok=True)
            with open(exclude, "a", encoding="utf-8") as fh:
                fh.write("".join(f"{r}\n" for r in ["# mlexp loop scratch files", *new]))

    def commit_aside(self, message: str) -> tuple[str, list[str]]:
        """Commit every tracked change outside the record on top of HEAD without moving the branch or
        touching the index (a temporary index); the commit and the paths it changes."""
        self._check_something_to_try()
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self._git("read-tree", "HEAD", env=env)
            self._git("add", "-u", "--", ".", *self.exclude, env=env)
            tree = self._git("write-tree", env=env)
        sha = self._git("commit-tree", tree, "-p", "HEAD", "-m", message)
        return sha, [p for p in self._git("diff", "--name-only", "-z", "HEAD", sha).split("\0") if p]

    def reset_paths(self, paths: list[str]) -> None:
        """Put ``paths`` back as HEAD has them, in the index and the working tree."""
        if paths:
            self._git("restore", "--source=HEAD", "--staged", "--worktree", "--", *paths)

    def parent_of(self, sha: str) -> str | None:
        parents = self.repo.commit(sha).parents
        return parents[0].hexsha if parents else None

    def is_ancestor(self, sha: str, of: str = "HEAD") -> bool:
        try:
            self.repo.git.merge_base("--is-ancestor", sha, of)
            return True
        except git.GitCommandError:
            return False

    def resolve(self, ref: str) -> str:
        try:
            return self.repo.commit(ref).hexsha
        except (git.BadName, ValueError):
            raise LoopGitError(f"{ref!r} names no commit") from None

    def subject(self, sha: str) -> str:
        return str(self.repo.commit(sha).summary)

    def fast_forward(self, sha: str, aside_ref: str = "") -> str:
        """Advance the checked-out branch to ``sha`` (a descendant of HEAD) and its tree; uncommitted
        edits to the paths it changes are stashed first (returned as for :meth:`restore`)."""
        paths = [p for p in self._git("diff", "--name-only", "-z", "HEAD", sha).split("\0") if p]
        kept = self.stash_paths(paths, "mlexp loop: edits made while a worktree attempt ran", aside_ref)
        self._git("merge", "-q", "--ff-only", sha)
        return kept

    def add_worktree(self, path: Path, sha: str) -> None:
        self._git("worktree", "add", "-q", "--detach", str(path), sha)

    def remove_worktree(self, path: Path) -> None:
        try:
            self._git("worktree", "remove", "--force", str(path))
        except LoopGitError:
            self.prune_worktrees()

    def prune_worktrees(self) -> None:
        self._git("worktree", "prune")

    @property
    def common_dir(self) -> Path:
        return Path(self.repo.common_dir)

    def show(self, ref: str) -> str:
        return self._git("show", "--stat", "--patch", ref)

    def apply(self, sha: str) -> None:
        """Put ``sha``'s change into the index and working tree (refuses when it does not apply)."""
        diff = self._git("diff", "--binary", f"{sha}^", sha, strip_newline_in_stdout=False)
        if not diff.strip():
            raise LoopGitError(f"commit {sha[:12]} changes nothing to revive")
        try:
            self._apply(diff, "--index")
        except git.GitCommandError:
            try:  # the lines around it moved since: merge it in three ways (the preimage is in the repo)
                self._apply(diff, "--3way")
            except git.GitCommandError as err:
                detail = " ".join((err.stderr or "").split())[:300]
                raise LoopGitError(
                    f"the attempt does not apply cleanly to the branch ({detail}); resolve the conflicts "
                    "(git status) and try it with `mlexp loop try`, or git restore --staged --worktree the files"
                ) from None

    def _apply(self, diff: str, *how: str) -> None:
        with tempfile.TemporaryFile() as stdin:
            stdin.write(diff.encode("utf-8", "surrogateescape"))
            stdin.seek(0)
            self.repo.git.execute(["git", "apply", *how, "-"], istream=stdin)
