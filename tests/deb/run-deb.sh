#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package (debian/), built and taken apart without installing
# anything on this machine.
# - The build dependencies of debian/control are installed (what
#   tools/bootstrap.sh installs), and the changelog's version is meson.build's.
# - dpkg-buildpackage builds the source and the binary package from a copy of
#   the tracked sources in a temporary directory (the source tree and the
#   build directory stay as they are), without the test suites (make check
#   runs them) and, where a network namespace can be made, without a network.
# - lintian finds no error.
# - The .deb holds the program, both manual pages, the bash completion, the
#   unit, the registry sources, the example policy (/etc/portcullis/policy.yaml
#   a conffile, and under /usr/share/doc/portcullis/examples); it depends on
#   the libraries it links; no maintainer script starts, stops or restarts
#   the unit.
# - Unpacked into a directory, its program prints the version and the
#   registry's hashes, and checks the example policies.
# - Installed with dpkg --root into a throwaway root (root, or a user
#   namespace): nothing enables the unit; an edited /etc/portcullis/policy.yaml
#   survives an upgrade, also one that changes the example (which is put
#   beside it as policy.yaml.dpkg-dist); a removal keeps it, a purge removes
#   everything.
# The package is left as BUILD/deb/portcullis_VERSION_ARCH.deb for the tests
# that install it on their own hosts.
. "$(dirname "$0")/../lib.sh"
build=$3

for c in dpkg-buildpackage dpkg-checkbuilddeps dpkg-parsechangelog dh lintian; do
    command -v "$c" >/dev/null 2>&1 || cannot_run "$c (sh tools/bootstrap.sh installs it)"
done

version=$(sed -n "s/^  version: '\([^']*\)',\$/\1/p" "$root/meson.build")
arch=$(dpkg --print-architecture)
deb=portcullis_${version}_$arch.deb

# dpkg-checkbuilddeps -I: the list less build-essential, which a build of C
# alone does not need (gcc and make are bootstrapped; g++ is not).
if (cd "$root" && dpkg-checkbuilddeps -I) >"$tmp/builddeps" 2>&1; then
    pass "the build dependencies in debian/control are installed"
else
    fail "the build dependencies in debian/control are installed: add the missing ones to tools/bootstrap.sh"
    cat "$tmp/builddeps"
fi
changelog=$(cd "$root" && dpkg-parsechangelog -S Version)
if [ -n "$version" ] && [ "$changelog" = "$version" ]; then
    pass "debian/changelog's version is meson.build's ($version)"
else
    fail "debian/changelog's version ($changelog) is meson.build's ($version): add a changelog entry"
fi

# The sources: what git tracks (and new files it does not ignore), else the
# tree without the build directory.
src=$tmp/portcullis-$version
mkdir "$src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$root" && git ls-files -z --cached --others --exclude-standard |
        tar --null --ignore-failed-read -T - -cf -) 2>/dev/null | tar -x -C "$src"
else
    (cd "$root" && tar --exclude-vcs --exclude="./$(basename "$build")" -cf - .) | tar -x -C "$src"
fi
rm -rf "$src/$(basename "$build")"
if [ ! -f "$src/debian/rules" ]; then
    fail "the sources are copied"
    finish
    exit 1
fi

# Without a network where a namespace can be made (as root, or in a user
# namespace of one's own).
isolate=
if unshare -n true 2>/dev/null; then
    isolate="unshare -n"
elif unshare -rn true 2>/dev/null; then
    isolate="unshare -rn"
fi
# -d: dpkg-checkbuilddeps ran above, without build-essential.
t0=$(date +%s)
if (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" timeout 900 $isolate \
    dpkg-buildpackage -us -uc -Pnocheck -d) >"$tmp/build.log" 2>&1 && [ -f "$tmp/$deb" ]; then
    pass "dpkg-buildpackage builds $deb${isolate:+ without a network} ($(($(date +%s) - t0)) s)"
else
    fail "dpkg-buildpackage builds $deb"
    tail -40 "$tmp/build.log"
    finish
    exit 1
fi
[ -n "$isolate" ] || skip "the build without a network" "unshare -n or unshare -rn"

# lintian, on the source and the binary package.
changes=$(ls "$tmp"/portcullis_"${version}"_*.changes)
t0=$(date +%s)
timeout 300 lintian --fail-on error --info "$changes" >"$tmp/lintian" 2>"$tmp/lintian.err"
rc=$?
if [ $rc = 0 ]; then
    pass "lintian: no error ($(grep -c '^W:' "$tmp/lintian") warnings; $(($(date +%s) - t0)) s)"
else
    fail "lintian: errors (exit $rc)"
fi
grep -v '^[IPX]:\|^N:' "$tmp/lintian"
grep -v 'root privileges' "$tmp/lintian.err"

# The files.
dpkg-deb -c "$tmp/$deb" | awk '{ print $1, $2, $NF }' >"$tmp/contents"
missing=
for f in /usr/sbin/portcullis /usr/share/man/man8/portcullis.8.gz \
    /usr/share/man/man5/portcullis-policy.5.gz /usr/share/bash-completion/completions/portcullis \
    /lib/systemd/system/portcullis.service /etc/portcullis/policy.yaml \
    /usr/share/doc/portcullis/examples/policy.yaml /usr/share/doc/portcullis/examples/kdc-primary.yaml \
    /usr/share/doc/portcullis/examples/kdc-replica.yaml \
    /usr/share/portcullis/data/service-names-port-numbers.csv /usr/share/portcullis/data/practice.services \
    /usr/share/doc/portcullis/copyright /usr/share/doc/portcullis/changelog.gz \
    /usr/share/doc/portcullis/README.Debian; do
    grep -q " \.$f\$" "$tmp/contents" || missing="$missing $f"
done
if [ -z "$missing" ]; then
    pass "the package holds the program, manual pages, completion, unit, registry sources, examples"
else
    fail "the package lacks:$missing"
fi
if grep -q '^-rwxr-xr-x root/root \./usr/sbin/portcullis$' "$tmp/contents"; then
    pass "/usr/sbin/portcullis is root's, mode 755"
else
    fail "/usr/sbin/portcullis is root's, mode 755"
fi

# The control fields.
field() { dpkg-deb -f "$tmp/$deb" "$1"; }
if [ "$(field Version)" = "$version" ] && [ "$(field Architecture)" = "$arch" ]; then
    pass "Version $version, Architecture $arch"
else
    fail "Version $(field Version), Architecture $(field Architecture)"
fi
depends=$(field Depends)
bad=
for lib in libc6 libnftnl11 libmnl0 libyaml-0-2; do
    echo "$depends" | tr ',' '\n' | grep -q "^ *$lib\\( \\|\$\\)" || bad="$bad $lib"
done
if [ -z "$bad" ]; then pass "Depends: the libraries it links ($depends)"; else
    fail "Depends lacks$bad: $depends"
fi
dpkg-deb -e "$tmp/$deb" "$tmp/control"
if [ "$(cat "$tmp/control/conffiles" 2>/dev/null)" = /etc/portcullis/policy.yaml ]; then
    pass "/etc/portcullis/policy.yaml is a conffile"
else
    fail "/etc/portcullis/policy.yaml is a conffile"
    cat "$tmp/control/conffiles"
fi

# The unit is left alone: no script starts, stops or restarts it (that it is
# not enabled either is seen below, installed with dpkg --root).
if cat "$tmp/control/"*inst "$tmp/control/"*rm 2>/dev/null | grep -q 'deb-systemd-invoke\|systemctl.*\(start\|stop\)'; then
    fail "no maintainer script starts, stops or restarts the unit"
else
    pass "no maintainer script starts, stops or restarts the unit"
fi

# Unpacked: the program runs from there.
dpkg-deb -x "$tmp/$deb" "$tmp/root"
sbin=$tmp/root/usr/sbin/portcullis
"$sbin" --version >"$tmp/version" 2>&1
if [ "$(head -1 "$tmp/version")" = "portcullis $version" ] &&
    grep -q '^IANA registry snapshot [0-9-]*: data/service-names-port-numbers.csv sha256 [0-9a-f]\{64\}$' "$tmp/version" &&
    grep -q "^practice layer: data/practice.services sha256 $(sha256sum "$tmp/root/usr/share/portcullis/data/practice.services" | cut -c1-64)\$" "$tmp/version" &&
    grep -q "sha256 $(sha256sum "$tmp/root/usr/share/portcullis/data/service-names-port-numbers.csv" | cut -c1-64)\$" "$tmp/version" &&
    grep -qx 'registry sources: /usr/share/portcullis/data/' "$tmp/version"; then
    pass "--version: $version, the IANA snapshot's date and the hashes of the sources the package installs"
else
    fail "--version: $version, the IANA snapshot's date and the hashes of the sources the package installs"
    cat "$tmp/version"
fi
for p in "$tmp/root/etc/portcullis/policy.yaml" "$tmp/root/usr/share/doc/portcullis/examples/"*.yaml; do
    if "$sbin" check "$p" >"$tmp/check" 2>&1; then
        pass "check ${p#"$tmp/root"}"
    else
        fail "check ${p#"$tmp/root"}"
        cat "$tmp/check"
    fi
done
if grep -qx 'ExecStart=/usr/sbin/portcullis apply /etc/portcullis/policy.yaml' \
    "$tmp/root/lib/systemd/system/portcullis.service"; then
    pass "the unit applies /etc/portcullis/policy.yaml with /usr/sbin/portcullis"
else
    fail "the unit applies /etc/portcullis/policy.yaml with /usr/sbin/portcullis"
fi

# Installed with dpkg --root into a throwaway root: the maintainer scripts run
# outside a chroot with DPKG_ROOT set to it (--force-script-chrootless), the
# libraries are this machine's (--force-depends).  deb-systemd-helper, which
# keeps its state under DPKG_ROOT, runs only when DPKG_ROOT is that root;
# deb-systemd-invoke and systemctl are stand-ins that record their calls.
asroot=
if [ "$(id -u)" != 0 ]; then
    if unshare -r true 2>/dev/null; then asroot="unshare -r"; else asroot=none; fi
fi
if [ "$asroot" = none ]; then
    skip "dpkg --root: install, upgrade, purge" "root, or unshare -r"
else
    r=$tmp/dpkgroot
    mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$tmp/sys"
    : >"$r/var/lib/dpkg/status"
    : >"$tmp/syscalls"
    printf '#!/bin/sh\necho "deb-systemd-helper $*" >>"%s"\n[ "${DPKG_ROOT:-}" = "%s" ] || exit 1\nexec /usr/bin/deb-systemd-helper "$@"\n' \
        "$tmp/syscalls" "$r" >"$tmp/sys/deb-systemd-helper"
    for c in deb-systemd-invoke systemctl; do
        printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$c" "$tmp/syscalls" >"$tmp/sys/$c"
    done
    chmod +x "$tmp/sys/"*
    dpkgr() {
        PATH="$tmp/sys:$PATH" timeout 120 $asroot dpkg --root="$r" --force-script-chrootless \
            --force-depends "$@" </dev/null >>"$tmp/dpkg.log" 2>&1
    }
    # repack VERSION: the package unpacked into $tmp/VERSION as VERSION;
    # built VERSION: $tmp/VERSION.deb from it.
    repack() {
        rm -rf "$tmp/$1"
        dpkg-deb -R "$tmp/$deb" "$tmp/$1"
        sed -i "s/^Version: .*/Version: $1/" "$tmp/$1/DEBIAN/control"
    }
    built() {
        (cd "$tmp/$1" && find usr lib -type f | sort | xargs md5sum) >"$tmp/$1/DEBIAN/md5sums"
        dpkg-deb --root-owner-group -Zgzip -b "$tmp/$1" "$tmp/$1.deb" >/dev/null
    }
    etc=$r/etc/portcullis/policy.yaml
    if dpkgr -i "$tmp/$deb" && [ -x "$r/usr/sbin/portcullis" ] && [ -f "$etc" ] &&
        grep -q '^Status: install ok installed' "$r/var/lib/dpkg/status"; then
        pass "dpkg --root -i: installed"
    else
        fail "dpkg --root -i: installed"
        cat "$tmp/dpkg.log"
    fi
    if [ -z "$(find "$r/etc" -path '*systemd*' -name 'portcullis*' 2>/dev/null)" ] &&
        ! grep -q 'deb-systemd-invoke\|systemctl.*start' "$tmp/syscalls"; then
        pass "dpkg --root -i: the unit is neither enabled nor started"
    else
        fail "dpkg --root -i: the unit is neither enabled nor started"
        cat "$tmp/syscalls"
        find "$r/etc" -path '*systemd*'
    fi
    # An upgrade whose policy.yaml is the same: the administrator's edit stays.
    echo "# edited" >>"$etc"
    cp "$etc" "$tmp/edited"
    repack "$version+1"
    built "$version+1"
    if dpkgr -i "$tmp/$version+1.deb" && cmp -s "$etc" "$tmp/edited" &&
        grep -q "^Version: $version+1\$" "$r/var/lib/dpkg/status"; then
        pass "an upgrade keeps the edited /etc/portcullis/policy.yaml"
    else
        fail "an upgrade keeps the edited /etc/portcullis/policy.yaml"
        tail -5 "$tmp/dpkg.log"
    fi
    # One whose policy.yaml changed too: with --force-confold (what apt is
    # told by unattended runs) the edit stays and the new one is put beside.
    repack "$version+2"
    echo "# changed by the package" >>"$tmp/$version+2/etc/portcullis/policy.yaml"
    built "$version+2"
    if dpkgr --force-confdef --force-confold -i "$tmp/$version+2.deb" && cmp -s "$etc" "$tmp/edited" &&
        cmp -s "$etc.dpkg-dist" "$tmp/$version+2/etc/portcullis/policy.yaml"; then
        pass "an upgrade that changes the example too keeps the edit, the new one as policy.yaml.dpkg-dist"
    else
        fail "an upgrade that changes the example too keeps the edit, the new one as policy.yaml.dpkg-dist"
        tail -5 "$tmp/dpkg.log"
    fi
    rm -f "$etc.dpkg-dist"
    if dpkgr -r portcullis && [ ! -e "$r/usr/sbin/portcullis" ] && cmp -s "$etc" "$tmp/edited"; then
        pass "dpkg --root -r: the program goes, the policy stays"
    else
        fail "dpkg --root -r: the program goes, the policy stays"
    fi
    if dpkgr -P portcullis && left=$(find "$r" -path "$r/var/lib" -prune -o ! -type d -print) && [ -z "$left" ] &&
        [ ! -e "$r/etc/portcullis" ] && grep -q '^deb-systemd-helper purge portcullis.service$' "$tmp/syscalls"; then
        pass "dpkg --root -P: nothing of the package is left"
    else
        fail "dpkg --root -P: nothing of the package is left"
        echo "$left"
        tail -5 "$tmp/dpkg.log"
    fi
fi

# Where other tests find it.
mkdir -p "$build/deb"
rm -f "$build/deb/"portcullis_*.deb
cp "$tmp/$deb" "$build/deb/"
pass "the package is left as $(basename "$build")/deb/$deb"

finish
