#!/usr/bin/env bash
# Installs fiscal-agent as a systemd service on a Raspberry Pi or the club's register PC,
# from this checkout; run it again to upgrade, --uninstall to remove it.
#
#   sudo deploy/install.sh                      install or upgrade
#   sudo deploy/install.sh --uninstall          remove it; keep the outbox, the user and an
#                                               edited config
#   sudo deploy/install.sh --uninstall --purge  remove everything it made
#
# What it makes (every path under --root when given):
#   user fiscal (system, no login, group fiscal, member of dialout for the serial port)
#   /opt/fiscal-edge/.venv        a venv with this checkout installed (pip, not editable)
#   /opt/fiscal-edge/README.md    the documentation the unit's Documentation= points at
#   /usr/local/bin/fiscal-agent   -> /opt/fiscal-edge/.venv/bin/fiscal-agent
#   /etc/fiscal-agent/agent.toml  from examples/agent.toml, only if absent: an admin's config
#                                 is never overwritten (root:fiscal 0640 in a 0750 directory)
#   /var/lib/fiscal-agent         the state directory (outbox, sync queue), fiscal 0750
#   /etc/systemd/system/fiscal-agent.service, enabled (multi-user.target)
#   /etc/udev/rules.d/99-fiscal-register.rules  the register as /dev/fiscal-register
#
# --root DIR installs into DIR instead of /, for tests and images; nothing on the host
# changes: no useradd, systemctl or udevadm. DIR must look like a system: etc/passwd and
# etc/group with a dialout group. The user is written to DIR/etc/passwd and DIR/etc/group
# as useradd would (not to shadow files), with the highest id free in 100-999, and the
# enable is the symlink in DIR/etc/systemd/system/multi-user.target.wants that
# `systemctl enable` makes. Missing standard directories (DIR/opt, DIR/usr/local/bin, ...)
# are created and stay after --uninstall, as they would on a real system.
#
# --venv-from VENV does not build a venv: /opt/fiscal-edge/.venv becomes a symlink to VENV,
# an existing venv with fiscal-edge installed (tests pass the checkout's .venv; it also
# suits a venv you manage yourself). --uninstall removes the symlink, never VENV.
set -euo pipefail

readonly PROG=${0##*/}
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR

readonly APP_USER=fiscal
readonly UNIT=fiscal-agent.service
readonly OPT_DIR=/opt/fiscal-edge
readonly VENV_DIR=$OPT_DIR/.venv
readonly BIN_LINK=/usr/local/bin/fiscal-agent
readonly CONFIG_DIR=/etc/fiscal-agent
readonly CONFIG_FILE=$CONFIG_DIR/agent.toml
readonly STATE_DIR=/var/lib/fiscal-agent
readonly UNIT_DIR=/etc/systemd/system
readonly WANTS_DIR=$UNIT_DIR/multi-user.target.wants
readonly UDEV_RULE=/etc/udev/rules.d/99-fiscal-register.rules
readonly REGISTER_NAME=/dev/fiscal-register
readonly MIN_PYTHON=3.11

ROOT=""
SOURCE=$(cd -- "$SCRIPT_DIR/.." && pwd)
VENV_FROM=""
PYTHON=python3
ACTION=install
PURGE=0

usage() {
    cat <<EOF
Usage: $PROG [--root DIR] [--source DIR] [--venv-from VENV | --python PYTHON]
       $PROG --uninstall [--purge] [--root DIR]

Installs fiscal-agent as a systemd service (user, venv, config, state directory, unit, udev
rule); run it again to upgrade. Idempotent: a second run changes nothing but the venv.

  --root DIR         install into DIR, not / (no useradd/systemctl/udevadm on this host)
  --source DIR       the fiscal-edge checkout to install (default: $SOURCE)
  --python PYTHON    the interpreter the venv is made with (default: python3, $MIN_PYTHON+)
  --venv-from VENV   use an existing venv (symlinked), do not build one
  --uninstall        remove what install made; keeps $STATE_DIR (the outbox), the user
                     that owns it and an edited $CONFIG_FILE
  --purge            with --uninstall: remove those too
  -h, --help         this text
EOF
}

die() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit 1
}

say() {
    printf '%s\n' "$*"
}

# The path inside the target root.
at() {
    printf '%s%s' "$ROOT" "$1"
}

parse_args() {
    while (($#)); do
        case $1 in
        --root)
            (($# >= 2)) || die "--root needs a directory"
            [[ -d $2 ]] || die "--root: $2 is not a directory"
            ROOT=$(cd -- "$2" && pwd)
            [[ $ROOT == / ]] && ROOT=""
            shift 2
            ;;
        --source)
            (($# >= 2)) || die "--source needs a directory"
            [[ -d $2 ]] || die "--source: $2 is not a directory"
            SOURCE=$(cd -- "$2" && pwd)
            shift 2
            ;;
        --venv-from)
            (($# >= 2)) || die "--venv-from needs a venv"
            [[ -x $2/bin/fiscal-agent ]] || die "--venv-from: $2/bin/fiscal-agent is not there"
            VENV_FROM=$(cd -- "$2" && pwd)
            shift 2
            ;;
        --python)
            (($# >= 2)) || die "--python needs an interpreter"
            PYTHON=$2
            shift 2
            ;;
        --uninstall)
            ACTION=uninstall
            shift
            ;;
        --purge)
            PURGE=1
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            die "unknown argument: $1"
            ;;
        esac
    done
    if ((PURGE)) && [[ $ACTION != uninstall ]]; then
        die "--purge goes with --uninstall"
    fi
}

is_live() {
    [[ -z $ROOT ]]
}

# systemd is running here (not a chroot or a container without it).
has_systemd() {
    is_live && [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null
}

check_preconditions() {
    if is_live && ((EUID != 0)); then
        die "run it as root: sudo $0"
    fi
    if is_live; then
        getent group dialout >/dev/null || die "there is no dialout group on this system"
    else
        [[ -f $(at /etc/passwd) && -f $(at /etc/group) ]] ||
            die "--root $ROOT: etc/passwd and etc/group must exist"
        grep -q '^dialout:' "$(at /etc/group)" ||
            die "--root $ROOT: etc/group has no dialout group"
    fi
    if [[ $ACTION == install ]]; then
        for file in pyproject.toml README.md examples/agent.toml deploy/systemd/$UNIT \
            deploy/udev/${UDEV_RULE##*/}; do
            [[ -f $SOURCE/$file ]] || die "$SOURCE is not a fiscal-edge checkout ($file missing)"
        done
    fi
}

# --- the user ------------------------------------------------------------------------------

# The highest id in the system range, 100-999, that neither etc/passwd nor etc/group uses
# (useradd --system counts down from 999 too).
free_system_id() {
    awk -F: '{ used[$3] = 1 }
        END {
            for (id = 999; id >= 100; id--) if (!(id in used)) { print id; exit 0 }
            exit 1
        }' "$(at /etc/passwd)" "$(at /etc/group)" || die "no free system id in 100-999"
}

# Rewrites etc/group's dialout line with the user added (add) or removed (remove), in place.
edit_dialout_members() {
    local how=$1 file tmp
    file=$(at /etc/group)
    tmp=$(mktemp "$file.XXXXXX")
    awk -F: -v OFS=: -v user="$APP_USER" -v how="$how" '
        $1 == "dialout" {
            n = split($4, members, ",")
            out = ""
            found = 0
            for (i = 1; i <= n; i++) {
                if (members[i] == user) { found = 1; if (how == "remove") continue }
                if (members[i] != "") out = out (out == "" ? "" : ",") members[i]
            }
            if (how == "add" && !found) out = out (out == "" ? "" : ",") user
            $4 = out
        }
        { print }' "$file" >"$tmp"
    cat "$tmp" >"$file" # keeps the file's owner and mode
    rm -f "$tmp"
}

drop_lines_of_user() {
    local file tmp
    for file in "$(at /etc/passwd)" "$(at /etc/group)"; do
        tmp=$(mktemp "$file.XXXXXX")
        grep -v "^$APP_USER:" "$file" >"$tmp" || true
        cat "$tmp" >"$file"
        rm -f "$tmp"
    done
}

ensure_user() {
    if is_live; then
        if getent passwd "$APP_USER" >/dev/null; then
            local groups
            groups=" $(id -nG "$APP_USER") "
            if [[ $groups != *" dialout "* ]]; then
                usermod --append --groups dialout "$APP_USER"
                say "user $APP_USER: added to dialout"
            fi
        else
            useradd --system --user-group --groups dialout --no-create-home --no-log-init \
                --home-dir "$STATE_DIR" --shell /usr/sbin/nologin \
                --comment "fiscal-edge agent" "$APP_USER"
            say "user $APP_USER: created (system, in dialout)"
        fi
        return
    fi
    if ! grep -q "^$APP_USER:" "$(at /etc/passwd)"; then
        local id
        id=$(free_system_id)
        if ! grep -q "^$APP_USER:" "$(at /etc/group)"; then
            printf '%s:x:%s:\n' "$APP_USER" "$id" >>"$(at /etc/group)"
        fi
        local gid
        gid=$(awk -F: -v g="$APP_USER" '$1 == g { print $3 }' "$(at /etc/group)")
        printf '%s:x:%s:%s:fiscal-edge agent:%s:/usr/sbin/nologin\n' \
            "$APP_USER" "$id" "$gid" "$STATE_DIR" >>"$(at /etc/passwd)"
        say "user $APP_USER: written to $(at /etc/passwd) (uid $id)"
    fi
    edit_dialout_members add
}

remove_user() {
    if is_live; then
        if getent passwd "$APP_USER" >/dev/null; then
            userdel "$APP_USER"
            say "user $APP_USER: removed"
        fi
        if getent group "$APP_USER" >/dev/null; then
            groupdel "$APP_USER"
        fi
        return
    fi
    edit_dialout_members remove
    drop_lines_of_user
    say "user $APP_USER: removed from $(at /etc/passwd)"
}

# Numeric uid and gid of the user in the target root.
user_ids() {
    if is_live; then
        printf '%s:%s' "$(id -u "$APP_USER")" "$(id -g "$APP_USER")"
    else
        awk -F: -v u="$APP_USER" '$1 == u { printf "%s:%s", $3, $4 }' "$(at /etc/passwd)"
    fi
}

# chown by number (the names may exist only in the target root); only root can.
chown_as_root() {
    if ((EUID == 0)); then
        chown "$@"
    fi
}

# --- the venv ------------------------------------------------------------------------------

check_python() {
    command -v "$PYTHON" >/dev/null || die "no $PYTHON: install Python $MIN_PYTHON+ or pass --python"
    "$PYTHON" -c "import sys; sys.exit(sys.version_info < (${MIN_PYTHON/./, }))" ||
        die "$PYTHON is older than $MIN_PYTHON"
    "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null ||
        die "$PYTHON cannot make a venv: apt-get install python3-venv"
}

install_venv() {
    local venv
    venv=$(at "$VENV_DIR")
    mkdir -p "$(at "$OPT_DIR")"
    if [[ -n $VENV_FROM ]]; then
        if [[ -d $venv && ! -L $venv ]]; then
            rm -rf "$venv"
        fi
        ln -sfn "$VENV_FROM" "$venv"
        say "venv: $VENV_DIR -> $VENV_FROM"
        return
    fi
    check_python
    if [[ -L $venv ]]; then
        rm -f "$venv"
    fi
    # A venv whose interpreter no longer runs (the system's Python was upgraded) is rebuilt.
    if [[ -e $venv ]] && ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
        rm -rf "$venv"
    fi
    if [[ ! -e $venv ]]; then
        "$PYTHON" -m venv "$venv"
        say "venv: created $VENV_DIR"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$SOURCE"
    say "venv: fiscal-edge installed from $SOURCE"
}

# --- files ---------------------------------------------------------------------------------

# The config an install writes: the example, with the register at the udev rule's name.
render_config() {
    printf '# Installed by deploy/install.sh from examples/agent.toml. Edit it, then:\n'
    printf '#   systemctl restart fiscal-agent && fiscal-agent status --config %s\n' "$CONFIG_FILE"
    sed "s|^url = \"/dev/ttyACM0\"\$|url = \"$REGISTER_NAME\"|" "$SOURCE/examples/agent.toml"
}

install_config() {
    local dir file ids
    dir=$(at "$CONFIG_DIR")
    file=$(at "$CONFIG_FILE")
    ids=$(user_ids)
    mkdir -p "$dir"
    chmod 0750 "$dir"
    chown_as_root "0:${ids#*:}" "$dir"
    if [[ -e $file ]]; then
        say "config: $CONFIG_FILE kept as it is"
        return
    fi
    local tmp
    tmp=$(mktemp "$dir/.agent.toml.XXXXXX")
    render_config >"$tmp"
    chmod 0640 "$tmp"
    chown_as_root "0:${ids#*:}" "$tmp"
    mv "$tmp" "$file"
    say "config: wrote $CONFIG_FILE (register $REGISTER_NAME): edit it"
}

install_state_dir() {
    local dir
    dir=$(at "$STATE_DIR")
    mkdir -p "$dir"
    chmod 0750 "$dir"
    # -R: after an uninstall and a reinstall the user may have another uid.
    chown_as_root -R "$(user_ids)" "$dir"
}

# install(1) that writes only when the content differs, so a second run changes nothing.
put_file() {
    local mode=$1 from=$2 to
    to=$(at "$3")
    mkdir -p "$(dirname -- "$to")"
    if [[ ! -f $to ]] || ! cmp -s "$from" "$to"; then
        install -m "$mode" "$from" "$to"
    fi
    chmod "$mode" "$to"
}

install_files() {
    put_file 0644 "$SOURCE/README.md" "$OPT_DIR/README.md"
    put_file 0644 "$SOURCE/deploy/systemd/$UNIT" "$UNIT_DIR/$UNIT"
    put_file 0644 "$SOURCE/deploy/udev/${UDEV_RULE##*/}" "$UDEV_RULE"
    local link
    link=$(at "$BIN_LINK")
    mkdir -p "$(dirname -- "$link")"
    if [[ -e $link && ! -L $link ]]; then
        say "warning: $BIN_LINK exists and is not ours: left alone"
    else
        ln -sfn "$VENV_DIR/bin/fiscal-agent" "$link"
    fi
    say "files: $UNIT_DIR/$UNIT, $UDEV_RULE, $BIN_LINK"
}

enable_unit() {
    if is_live; then
        if has_systemd; then
            systemctl daemon-reload
        fi
        systemctl enable --quiet "$UNIT"
    else
        mkdir -p "$(at "$WANTS_DIR")"
        ln -sfn "$UNIT_DIR/$UNIT" "$(at "$WANTS_DIR/$UNIT")"
    fi
    say "unit: $UNIT enabled"
}

reload_udev() {
    if is_live && command -v udevadm >/dev/null && [[ -d /run/udev ]]; then
        udevadm control --reload-rules
        udevadm trigger --subsystem-match=tty
    fi
}

do_install() {
    local fresh=1
    [[ -e $(at "$CONFIG_FILE") ]] && fresh=0
    ensure_user
    install_venv
    install_config
    install_state_dir
    install_files
    enable_unit
    reload_udev
    if has_systemd; then
        # An upgrade: a running agent restarts on the new code; a first install waits for
        # the config to be edited.
        systemctl try-restart "$UNIT"
    fi
    if ((fresh)); then
        say ""
        say "Next: edit $CONFIG_FILE (club, agent, [register] url, [mqtt]), then"
        say "  systemctl restart fiscal-agent && fiscal-agent status --config $CONFIG_FILE"
    fi
}

# --- uninstall -----------------------------------------------------------------------------

# Removes a symlink only when it points where install pointed it.
remove_link() {
    local link target=$2
    link=$(at "$1")
    if [[ -L $link && $(readlink -- "$link") == "$target" ]]; then
        rm -f "$link"
    fi
}

do_uninstall() {
    if is_live; then
        if has_systemd; then
            systemctl disable --now --quiet "$UNIT" 2>/dev/null || true
        elif command -v systemctl >/dev/null; then
            systemctl disable --quiet "$UNIT" 2>/dev/null || true
        fi
    fi
    remove_link "$WANTS_DIR/$UNIT" "$UNIT_DIR/$UNIT"
    rm -f "$(at "$UNIT_DIR/$UNIT")"
    if has_systemd; then
        systemctl daemon-reload
        systemctl reset-failed "$UNIT" 2>/dev/null || true
    fi
    rm -f "$(at "$UDEV_RULE")"
    reload_udev
    remove_link "$BIN_LINK" "$VENV_DIR/bin/fiscal-agent"
    local venv
    venv=$(at "$VENV_DIR")
    if [[ -L $venv ]]; then
        rm -f "$venv" # a --venv-from venv is someone else's
    else
        rm -rf "$venv"
    fi
    rm -f "$(at "$OPT_DIR/README.md")"
    if [[ -d $(at "$OPT_DIR") ]]; then
        rmdir "$(at "$OPT_DIR")" 2>/dev/null || say "kept $OPT_DIR: it holds files install did not make"
    fi
    say "removed: $UNIT, the udev rule, $OPT_DIR, $BIN_LINK"

    local config
    config=$(at "$CONFIG_FILE")
    if ((PURGE)); then
        rm -f "$config"
    elif [[ -f $config && -f $SOURCE/examples/agent.toml ]] && cmp -s <(render_config) "$config"; then
        rm -f "$config" # never edited: nothing of the admin's is lost
    fi
    if [[ -e $config ]]; then
        say "kept $CONFIG_FILE: it was edited (--purge removes it)"
    else
        rmdir "$(at "$CONFIG_DIR")" 2>/dev/null || true
    fi

    if ((PURGE)); then
        rm -rf "$(at "$STATE_DIR")"
        remove_user
        say "purged: $STATE_DIR and the user $APP_USER"
    else
        say "kept $STATE_DIR (the outbox and what the cloud is owed) and the user $APP_USER"
        say "  that owns it; --uninstall --purge removes both"
    fi
}

main() {
    parse_args "$@"
    check_preconditions
    if [[ $ACTION == install ]]; then
        do_install
    else
        do_uninstall
    fi
}

main "$@"
