# bash completion for docker-compose: it is Compose v2, the same program as `docker compose`, so it
# completes as `docker compose` does (through the docker CLI's own completion of its plugins).
_dockyard_docker_compose() {
  declare -F _docker >/dev/null || . /usr/share/bash-completion/completions/docker
  COMP_WORDS=(docker compose "${COMP_WORDS[@]:1}")
  COMP_CWORD=$((COMP_CWORD + 1))
  # "docker-compose" and "docker compose" have the same length: COMP_POINT stays right.
  COMP_LINE="docker compose${COMP_LINE#docker-compose}"
  _docker
}
complete -F _dockyard_docker_compose docker-compose
