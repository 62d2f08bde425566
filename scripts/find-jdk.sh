# Sourced (bash) by ./nomad-shell, sandbox-image/build.sh and testbed/test.sh: finds a JDK new enough
# for the agent daemon, the part with the highest Java release. That release is read from
# agent-daemon/pom.xml (maven.compiler.release), so it is written in one place.
#
#   find_jdk    prints the home of the first JDK >= JDK_MIN among $JAVA_HOME, the `java` on PATH and
#               /usr/lib/jvm/*; or says what it found and what is needed on stderr, and returns 1.

JDK_MIN=$(sed -n 's:.*<maven.compiler.release>\([0-9]*\)</maven.compiler.release>.*:\1:p' \
  "$(dirname "${BASH_SOURCE[0]}")/../agent-daemon/pom.xml")

# The feature version of the JDK at $1 (17, 21, 25, ...), or nothing if $1/bin/java does not run.
java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1
}

find_jdk() {
  local candidate major on_path='' real visited=' ' seen=()
  if command -v java >/dev/null; then
    on_path=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
  fi
  for candidate in "${JAVA_HOME:-}" "$on_path" /usr/lib/jvm/*; do
    [[ -n "$candidate" && -x "$candidate/bin/java" ]] || continue
    real=$(readlink -f "$candidate")
    [[ "$visited" != *" $real "* ]] || continue
    visited+="$real "
    major=$(java_major "$candidate")
    # A JDK, not a bare runtime: javac builds the project, jlink makes the sandbox image's runtime.
    if [[ -x "$candidate/bin/javac" && -x "$candidate/bin/jlink" && "$major" =~ ^[0-9]+$ ]] && ((major >= JDK_MIN)); then
      echo "$candidate"
      return 0
    fi
    seen+=("$candidate (${major:-unknown version}$([[ -x "$candidate/bin/javac" ]] || echo ', no javac: a runtime, not a JDK'))")
  done
  {
    echo "No JDK $JDK_MIN or newer was found (the agent daemon is compiled for Java $JDK_MIN: it uses java.lang.foreign)."
    if ((${#seen[@]})); then
      echo "Found only:"
      printf '  %s\n' "${seen[@]}"
    fi
    echo "Install a JDK $JDK_MIN or newer (e.g. Temurin) under /usr/lib/jvm, or point JAVA_HOME at one."
  } >&2
  return 1
}
