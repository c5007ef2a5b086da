"""Knowledge-base pages: public reading, search, feedback, suggestions; staff lookup and stats.

Every article is loaded through :mod:`caredesk.kb.access`; every change goes
through :mod:`caredesk.kb.actions`.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from caredesk.clients.access import is_staff

from . import actions, query, stats
from .access import article_or_404, articles_for, categories_for
from .forms import FeedbackForm, SearchForm, StatsForm
from .models import Feedback
from .search import search

SEARCH_LIMIT = 20
SUGGEST_LIMIT = 5
LOOKUP_LIMIT = 10
MIN_SUGGEST_CHARS = 3
VISITOR_KEY = "kb_visitor"


def staff_only(view):
    """Staff pages of the kb: to anyone else they do not exist."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_staff(request.user):
            raise Http404("No such page")
        return view(request, *args, **kwargs)

    return wrapped


def _visitor(request, *, create: bool) -> str | None:
    """The random id of this browser's session, used only to count one vote per visitor."""
    visitor = request.session.get(VISITOR_KEY)
    if visitor is None and create:
        visitor = actions.new_visitor_id()
        request.session[VISITOR_KEY] = visitor
    return visitor


def _search_text(request) -> str:
    form = SearchForm(request.GET)
    form.is_valid()  # never invalid; cleaning drops what cannot be searched
    return form.cleaned_data.get("q", "")


def _find(text: str, user, limit: int) -> tuple[list, bool]:
    """All-words matches; failing those, any-word matches. Says which it returned."""
    results = search(text, user_or_none=user, limit=limit)
    if results or not text:
        return results, False
    return search(text, user_or_none=user, limit=limit, any_word=True), True


@require_GET
def index(request):
    articles = articles_for(request.user).order_by("position", "title")
    shelves = []
    for category in categories_for(request.user):
        shelves.append((category, [a for a in articles if a.category_id == category.pk]))
    loose = [a for a in articles if a.category_id is None]
    if loose:
        shelves.append((None, loose))
    return render(request, "kb/index.html", {"shelves": shelves, "form": SearchForm()})


@require_GET
def category(request, slug: str):
    shelf = get_object_or_404(categories_for(request.user), slug=slug)
    articles = articles_for(request.user).filter(category=shelf).order_by("position", "title")
    return render(
        request,
        "kb/category.html",
        {"category": shelf, "articles": articles, "form": SearchForm()},
    )


@require_GET
def article(request, slug: str):
    item = article_or_404(request.user, slug)
    if "s" in request.GET:
        actions.do_record_suggestion_open(request.GET["s"], item)
    return render(request, "kb/article.html", _article_context(request, item, FeedbackForm()))


def _vote_of(request, item) -> Feedback | None:
    visitor = _visitor(request, create=False)
    return Feedback.objects.filter(article=item, visitor=visitor).first() if visitor else None


def _article_context(request, item, feedback_form) -> dict:
    related = []
    if item.category_id:
        related = list(
            articles_for(request.user)
            .filter(category_id=item.category_id)
            .exclude(pk=item.pk)
            .order_by("position", "title")[:5]
        )
    return {
        "article": item,
        "vote": _vote_of(request, item),
        "feedback_form": feedback_form,
        "related": related,
        "support_address": settings.CAREDESK_SUPPORT_ADDRESS,
        "form": SearchForm(),
    }


@require_GET
def search_view(request):
    text = _search_text(request)
    results, loose = _find(text, request.user, SEARCH_LIMIT) if text else ([], False)
    return render(
        request,
        "kb/search.html",
        {"form": SearchForm(initial={"q": text}), "q": text, "results": results, "loose": loose},
    )


@require_POST
def feedback(request, slug: str):
    """Record a yes/no (and optional comment); htmx gets the feedback box back."""
    item = article_or_404(request.user, slug)
    form = FeedbackForm(request.POST)
    vote = None
    if form.is_valid():
        comment = form.cleaned_data["comment"] if "comment" in request.POST else None
        try:
            vote = actions.do_give_feedback(
                item,
                visitor=_visitor(request, create=True),
                helpful=form.cleaned_data["helpful"] == "yes",
                comment=comment,
            )
        except ValidationError as error:
            form.add_error(None, error)
    if vote is None:
        if request.htmx:
            context = {"article": item, "vote": _vote_of(request, item), "feedback_form": form}
            return render(request, "kb/_feedback.html", context, status=400)
        return render(request, "kb/article.html", _article_context(request, item, form), status=400)
    if not request.htmx:
        return redirect(item.get_absolute_url() + "#feedback")
    context = {
        "article": item,
        "vote": vote,
        "feedback_form": FeedbackForm(),
        "saved_comment": bool(vote.comment) and "comment" in request.POST,
    }
    return render(request, "kb/_feedback.html", context)


@require_GET
def suggest(request):
    """A fragment of articles for what a client is typing as a ticket subject (for htmx).

    Reads ``q`` (or ``subject``, the portal's field name) and carries the
    suggestion session in a hidden ``kb_suggestion`` input, so the ticket form
    sends it along when it is submitted.
    """
    raw = request.GET.get("q", request.GET.get("subject", ""))
    text = query.clean(raw)
    token = actions.valid_token(request.GET.get("kb_suggestion"))
    articles = []
    if len("".join(query.words(text))) >= MIN_SUGGEST_CHARS:
        articles = search(
            text,
            user_or_none=request.user,
            limit=SUGGEST_LIMIT,
            any_word=True,
            published_only=True,
        )
    token = actions.do_record_suggestions(token, articles)
    response = render(request, "kb/_suggestions.html", {"articles": articles, "token": token})
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@staff_only
def staff_lookup(request):
    """Articles for staff to link into a reply: any visibility, each with its address."""
    text = _search_text(request)
    if text:
        results, _ = _find(text, request.user, LOOKUP_LIMIT)
    else:
        results = list(articles_for(request.user).order_by("-updated_at")[:LOOKUP_LIMIT])
    base = settings.CAREDESK_BASE_URL
    items = [
        {
            "article": a,
            "url": base + a.get_absolute_url(),
            "markdown": f"[{_link_text(a.title)}]({base}{a.get_absolute_url()})",
        }
        for a in results
    ]
    response = render(request, "kb/_lookup.html", {"items": items, "q": text})
    response["Cache-Control"] = "private, no-store"
    return response


def _link_text(title: str) -> str:
    # Brackets would end the Markdown link text early.
    return title.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


@require_GET
@login_required
@staff_only
def staff_stats(request):
    form = StatsForm(request.GET)
    days = form.cleaned_data["days"] if form.is_valid() else 30
    articles = stats.with_counts(articles_for(request.user), days).order_by(
        "category__position", "position", "title"
    )
    return render(
        request,
        "kb/stats.html",
        {
            "form": form,
            "days": days,
            "periods": StatsForm.PERIODS,
            "deflection": stats.deflection(days),
            "articles": articles,
            "comments": stats.recent_comments(),
        },
    )
