#!/usr/bin/env bash
# The test command, as root on a Debian machine: sets the machine up for the tests (testbed/setup.sh:
# installs what is missing, starts Docker and Nomad, builds llama-server once), then builds the
# project and runs every test with a JDK new enough for the agent daemon. CI runs exactly this.
#
#   testbed/test.sh [MAVEN ARGUMENTS...]    e.g. -pl e2e -am -Dtest=FrontDoorTest -Dsurefire.failIfNoSpecifiedTests=false
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
"$REPO/testbed/setup.sh"
# shellcheck source=../scripts/find-jdk.sh
source "$REPO/scripts/find-jdk.sh"
JAVA_HOME=$(find_jdk)
export JAVA_HOME
echo "Using JAVA_HOME=$JAVA_HOME"
cd "$REPO"
exec ./mvnw -B -ntp verify "$@"
