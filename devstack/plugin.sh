#!/bin/bash
# devstack plugin for Valet: ``source plugin.sh <mode> [<phase>]``.

VALET_PLUGIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$VALET_PLUGIN_DIR/lib/valet"

if is_service_enabled valet-api valet-engine; then
    echo_summary "valet devstack plugin.sh called: $1/$2"

    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing Valet"
        install_valet

    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring Valet"
        create_valet_accounts
        configure_valet
        configure_nova_for_valet
        configure_heat_for_valet

    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Initializing and starting Valet"
        init_valet
        start_valet

    elif [[ "$1" == "stack" && "$2" == "test-config" ]]; then
        configure_tempest_for_valet
    fi

    if [[ "$1" == "unstack" ]]; then
        stop_valet
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_valet
    fi
fi
