/**
 * `--entrypoint '/bin/sh -c "run me"'` becomes the single argument ["/bin/sh -c \"run me\""]
 * (docker-copyedit's rule): legal, but rarely what was meant. Say so, and show both ways out.
 */
export function commandValueWarning(field: 'entrypoint' | 'cmd', value: string, form: 'flag' | 'sentence'): string | undefined {
  const t = value.trim();
  if (t.startsWith('[') || !/\s/.test(t)) return undefined;
  const words = t.split(/\s+/);
  // with quotes in it, splitting at blanks would mislead: show the shape instead
  const json = /["'\\]/.test(t) ? '["program","arg 1","arg 2"]' : JSON.stringify(words);
  const shown = JSON.stringify([value]);
  if (form === 'sentence') {
    const verb = `SET ${field.toUpperCase()}`;
    return `${verb} "${value}" sets one argument ${shown} (a program named with spaces); for a shell command say SET SHELL ${field.toUpperCase()} "${value}", for separate arguments the JSON form ${verb} '${json}'`;
  }
  return `--${field} '${value}' sets one argument ${shown} (a program named with spaces); for a shell command use --${field}-shell '${value}', for separate arguments the JSON form --${field} '${json}'`;
}
