/* The bash completion script, generated from the command table so that it
 * cannot fall behind it. How a value completes follows from its choices,
 * its word for none (--cap none), or its metavar (NAME: partitions from
 * partd, POLICY: policies from partd, CPC: the list of CPCs, FILE: files,
 * COMMAND: commands). */
#include <string.h>

#include "partctl.h"

static void words(FILE *f, const struct partctl_opt *opts, bool only_with_arg)
{
    const char *sep = "";
    for (const struct partctl_opt *o = opts; o && o->name; o++) {
        if (only_with_arg && !opt_takes_value(o))
            continue;
        fprintf(f, "%s--%s", sep, o->name);
        sep = " ";
        if (o->short_name)
            fprintf(f, " -%c", o->short_name);
    }
}

static void choices(FILE *f, const char *const *c)
{
    for (const char *const *p = c; *p; p++)
        fprintf(f, "%s%s", p == c ? "" : " ", *p);
}

/* The completion of a value whose metavar is metavar, choices c and word
 * for none none (c and none may be NULL). */
static void complete_value(FILE *f, const char *metavar, const char *const *c, const char *none)
{
    const char *const just_none[] = {none, NULL};

    if (c || none) {
        fputs("COMPREPLY=($(compgen -W \"", f);
        choices(f, c ? c : just_none);
        fputs("\" -- \"$cur\"));;\n", f);
    } else if (strcmp(metavar, "FILE") == 0) {
        fputs("compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\"));;\n", f);
    } else if (strcmp(metavar, "NAME") == 0) {
        fputs("_partctl_names;;\n", f);
    } else if (strcmp(metavar, "POLICY") == 0) {
        fputs("_partctl_policies;;\n", f);
    } else if (strcmp(metavar, "CPC") == 0) {
        fputs("_partctl_cpcs;;\n", f);
    } else if (strcmp(metavar, "COMMAND") == 0) {
        fputs("COMPREPLY=($(compgen -W \"$_partctl_commands\" -- \"$cur\"));;\n", f);
    } else {
        fputs(";;\n", f); /* a number or a size: nothing to offer */
    }
}

/* One case per option with an argument; cmd NULL: any command's. */
static void value_cases(FILE *f, const char *cmd, const struct partctl_opt *opts)
{
    for (const struct partctl_opt *o = opts; o && o->name; o++) {
        struct opt_spec spec = opt_spec(o);
        if (!opt_takes_value(o))
            continue;
        fprintf(f, cmd ? "    \"%s --%s\"" : "    *\"%s --%s\"", cmd ? cmd : "", o->name);
        if (o->short_name)
            fprintf(f, cmd ? "|\"%s -%c\"" : "|*\"%s -%c\"", cmd ? cmd : "", o->short_name);
        fputs(") ", f);
        complete_value(f, o->metavar, spec.choices, spec.none);
    }
}

/* The words: commands, global options, those taking a value. */
static void complete_words(const struct partctl_table *t, FILE *f)
{
    fputs("_partctl_commands=\"", f);
    for (const struct partctl_cmd *c = t->commands; c->name; c++)
        fprintf(f, "%s%s", c == t->commands ? "" : " ", c->name);
    fputs("\"\n_partctl_global=\"", f);
    words(f, t->globals, false);
    fputs("\"\n_partctl_global_args=\"", f);
    words(f, t->globals, true);
    fputs("\"\n\n", f);
}

/* _partctl_opts: each command's options */
static void complete_opts(const struct partctl_table *t, FILE *f)
{
    fputs("# _partctl_opts COMMAND: sets _partctl_o (its options) and _partctl_a (those\n"
          "# taking an argument)\n"
          "_partctl_opts() {\n    case \"$1\" in\n",
          f);
    for (const struct partctl_cmd *c = t->commands; c->name; c++) {
        if (!c->opts)
            continue; /* --help comes with the global options */
        fprintf(f, "    %s) _partctl_o=\"", c->name);
        words(f, c->opts, false);
        fputs("\"; _partctl_a=\"", f);
        words(f, c->opts, true);
        fputs("\";;\n", f);
    }
    fputs("    *) _partctl_o=\"\"; _partctl_a=\"\";;\n    esac\n}\n\n", f);
}

/* _partctl_value and _partctl_arg: the values of options and arguments */
static void complete_values(const struct partctl_table *t, FILE *f)
{
    const struct partctl_cmd *c;

    /* a command's options first: they shadow global ones of the same name */
    fputs("# _partctl_value COMMAND OPTION: completes OPTION's argument\n"
          "_partctl_value() {\n    case \"$1 $2\" in\n",
          f);
    for (c = t->commands; c->name; c++)
        value_cases(f, c->name, c->opts);
    value_cases(f, NULL, t->globals);
    fputs("    esac\n}\n\n", f);

    fputs("# _partctl_arg COMMAND INDEX: completes the INDEXth argument (from 0)\n"
          "_partctl_arg() {\n    case \"$1 $2\" in\n",
          f);
    for (c = t->commands; c->name; c++)
        for (const struct partctl_arg *a = c->args; a && a->metavar; a++) {
            fprintf(f, "    \"%s %d\") ", c->name, (int)(a - c->args));
            complete_value(f, a->metavar, a->choices, NULL);
        }
    fputs("    esac\n}\n\n", f);
}

/* The functions that read the line, the same for every table. */
static void complete_main(FILE *f)
{
    fputs("# partition names from partd itself, through the --server, --token-file and\n"
          "# --cacert given\n"
          "_partctl_names() {\n"
          "    local names\n"
          "    names=$(\"${COMP_WORDS[0]}\" \"${_partctl_conn[@]}\" list 2>/dev/null |\n"
          "        awk 'NR > 1 { print $1 }')\n"
          "    COMPREPLY=($(compgen -W \"$names\" -- \"$cur\"))\n"
          "}\n\n"
          "# policy names from partd itself (policy --list: the one in force marked *)\n"
          "_partctl_policies() {\n"
          "    local names\n"
          "    names=$(\"${COMP_WORDS[0]}\" \"${_partctl_conn[@]}\" policy --list 2>/dev/null |\n"
          "        awk 'NR > 1 { print ($1 == \"*\" ? $2 : $1) }')\n"
          "    COMPREPLY=($(compgen -W \"$names\" -- \"$cur\"))\n"
          "}\n\n"
          "# CPC names from the list of CPCs (nothing asked of them)\n"
          "_partctl_cpcs() {\n"
          "    local names\n"
          "    names=$(\"${COMP_WORDS[0]}\" cpcs --list 2>/dev/null | awk 'NR > 1 { print $1 }')\n"
          "    COMPREPLY=($(compgen -W \"$names\" -- \"$cur\"))\n"
          "}\n\n"
          "_partctl() {\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
          "    local cmd=\"\" w i nargs=0 _partctl_o _partctl_a _partctl_conn=()\n"
          "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "        w=${COMP_WORDS[i]}\n"
          "        _partctl_opts \"$cmd\"\n"
          "        case \" $_partctl_a $_partctl_global_args \" in\n"
          "        *\" $w \"*)\n"
          "            case $w in --server | --cpc | --token-file | --cacert)\n"
          "                _partctl_conn+=(\"$w\" \"${COMP_WORDS[i + 1]}\") ;;\n"
          "            esac\n"
          "            ((i++))\n"
          "            continue ;;\n"
          "        esac\n"
          "        case $w in\n"
          "        -*) ;;\n"
          "        *) if [[ -z $cmd ]]; then cmd=$w; else ((nargs++)); fi ;;\n"
          "        esac\n"
          "    done\n"
          "    _partctl_opts \"$cmd\"\n"
          "    if ((COMP_CWORD > 1)); then\n"
          "        case \" $_partctl_a $_partctl_global_args \" in\n"
          "        *\" $prev \"*) _partctl_value \"$cmd\" \"$prev\"; return ;;\n"
          "        esac\n"
          "    fi\n"
          "    if [[ $cur == -* ]]; then\n"
          "        COMPREPLY=($(compgen -W \"$_partctl_o $_partctl_global\" -- \"$cur\"))\n"
          "    elif [[ -z $cmd ]]; then\n"
          "        COMPREPLY=($(compgen -W \"$_partctl_commands\" -- \"$cur\"))\n"
          "    else\n"
          "        _partctl_arg \"$cmd\" \"$nargs\"\n"
          "    fi\n"
          "}\n"
          "complete -F _partctl partctl\n",
          f);
}

void completion_bash(const struct partctl_table *t, FILE *f)
{
    fputs("# bash completion for partctl, generated by 'partctl completion bash'.\n"
          "# Load it with: source <(partctl completion bash)\n\n",
          f);
    complete_words(t, f);
    complete_opts(t, f);
    complete_values(t, f);
    complete_main(f);
}

int cmd_completion(struct partctl_ctx *ctx)
{
    /* the argument's choices were checked while parsing: only bash is known */
    completion_bash(ctx->table, stdout);
    return PARTCTL_OK;
}
