#!/bin/sh
# mmdebstrap --customize-hook for makerdeck-rig/debian:bookworm (run by scripts/rig/stack-images.js
# as: sh customize.sh "$ROOTFS"). Makes the minbase root filesystem behave like a container base.
set -eu
root="$1"

# Package maintainer scripts must not try to start services inside an image build.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

# Keep images small: no recommends, no translations, no docs/man pages/locales in later installs.
cat > "$root/etc/apt/apt.conf.d/90makerdeck-rig" <<'CONF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
CONF
cat > "$root/etc/dpkg/dpkg.cfg.d/90makerdeck-rig" <<'CONF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
CONF
# Drop what the bootstrap itself already installed there.
find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root/usr/share/man"/* "$root/usr/share/info"/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +

# Docker provides these per container.
rm -f "$root/etc/hostname" "$root/etc/resolv.conf"
: > "$root/etc/machine-id"

# No package lists or caches in the image (apt-get update in each Dockerfile that installs).
rm -rf "$root/var/lib/apt/lists"/* "$root/var/cache/apt"/*.bin "$root/var/cache/ldconfig/aux-cache" "$root/var/log"/*.log
echo 'makerdeck-rig debian:bookworm (mmdebstrap minbase)' > "$root/etc/makerdeck-rig-release"
