from django.urls import path

from . import account, reports, signin, statements, tickets

app_name = "portal"
urlpatterns = [
    path("", tickets.ticket_list, name="home"),
    path("sign-in/", signin.sign_in, name="sign_in"),
    path("sign-in/sent/", signin.link_sent, name="link_sent"),
    path("sign-in/password/", signin.password_sign_in, name="password_sign_in"),
    path("link/<str:secret>/", signin.link, name="link"),
    path("sign-out/", signin.sign_out, name="sign_out"),
    path("account/", account.account, name="account"),
    path("tickets/new/", tickets.new_ticket, name="new_ticket"),
    path("tickets/new/scope/", tickets.scope_notice, name="scope"),
    path("tickets/<int:number>/", tickets.ticket_view, name="ticket"),
    path("tickets/<int:number>/reply/", tickets.reply, name="reply"),
    path("tickets/<int:number>/close/", tickets.close, name="close"),
    path("tickets/<int:number>/approve/", tickets.approve, name="approve"),
    path("reports/", reports.report_list, name="reports"),
    path("reports/<int:pk>/", reports.report_view, name="report"),
    path("statements/", statements.statement_list, name="statements"),
    path("statements/<int:pk>/<str:kind>/", statements.statement_file, name="statement_file"),
]
