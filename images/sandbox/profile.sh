# Login shells in the sandbox: a short welcome, once per terminal. Short lines (at most 44
# characters), so even a phone's narrow terminal shows them without breaking a word.
if [ -n "${PS1:-}" ] && [ -z "${DOCKYARD_WELCOMED:-}" ]; then
  export DOCKYARD_WELCOMED=1
  printf '\n  \033[1;36mDockyard sandbox\033[0m: your own Docker engine.\n'
  printf '  You are root here, and only here.\n'
  printf '  Try: \033[1mdocker run hello-world\033[0m\n'
  printf '  Your files live in ~/work.\n'
  printf '  Type \033[1mexit\033[0m to close this tab.\n\n'
fi
